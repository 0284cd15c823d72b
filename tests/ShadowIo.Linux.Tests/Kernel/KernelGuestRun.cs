using System.Globalization;
using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.LinuxGuest;

namespace ShadowIo.Linux.Tests.Kernel;

/// <summary>
/// Boots the TCG guest (-cpu max: AMD SVM with NPT), loads a KVM module set in the order the
/// guest image lists (irqbypass, kvm, ccp, kvm-amd) and runs the published kernel guest runner;
/// parses its line records.
/// </summary>
public sealed class KernelGuestRun
{
    private KernelGuestRun(GuestRunResult result) => Result = result;

    public GuestRunResult Result { get; }

    public IEnumerable<string> Records(string kind) =>
        Result.Lines.Where(l => l.StartsWith(kind + " ", StringComparison.Ordinal)).Select(l => l[(kind.Length + 1)..]);

    /// <summary>CHECK records: name → (PASS|FAIL|SKIP, whole line).</summary>
    public IReadOnlyDictionary<string, (string Verdict, string Line)> Checks =>
        Records("CHECK").Select(r => r.Split(' ', 3)).ToDictionary(p => p[0], p => (p[1], string.Join(' ', p)));

    /// <summary>RATE records: mode → notifications per second.</summary>
    public IReadOnlyDictionary<string, double> Rates =>
        Records("RATE").ToDictionary(r => r.Split(' ')[0], r => double.Parse(
            r.Split(' ').Single(f => f.StartsWith("per_second=", StringComparison.Ordinal))["per_second=".Length..], CultureInfo.InvariantCulture));

    /// <param name="patched">The rebuilt kvm.ko/kvm-amd.ko (post-write) instead of the image's stock ones.</param>
    public static async Task<KernelGuestRun> StartAsync(PatchedKvmModules? patched, string runnerArguments, CancellationToken cancellationToken)
    {
        // The image's set-up installs what a fresh machine lacks, gcc among it (NativeAOT's linker driver).
        await RepositoryGuest.ImageAsync(cancellationToken);
        var runner = await KernelGuestRunner.PublishAsync(cancellationToken);
        var files = new List<GuestFile> { GuestFile.FromHostFile(KernelGuestRunner.GuestPath, runner, GuestFile.Executable) };
        if (patched is not null)
        {
            files.Add(GuestFile.FromHostFile("/shadowio/patched/kvm.ko", patched.KvmPath, GuestFile.Regular));
            files.Add(GuestFile.FromHostFile("/shadowio/patched/kvm-amd.ko", patched.KvmAmdPath, GuestFile.Regular));
        }
        // /etc/shadowio/kvm-modules.list comes from the image (guest/setup.sh resolves it from the
        // modules' own depends= lists); patched modules replace kvm and kvm-amd in that order.
        var script = $$"""
            set -u
            use_patched={{(patched is null ? 0 : 1)}}
            while read -r ko; do
              case "$ko" in
                */kvm.ko|*/kvm-amd.ko) [ $use_patched = 1 ] && ko=/shadowio/patched/${ko##*/} || ko=/lib/modules/$SHADOWIO_KVER/$ko ;;
                *) ko=/lib/modules/$SHADOWIO_KVER/$ko ;;
              esac
              insmod "$ko" || { echo "MODULE-FAILED $ko"; exit 3; }
            done < /etc/shadowio/kvm-modules.list
            [ -c /dev/kvm ] || { echo "NO-DEV-KVM"; dmesg | grep -i -E 'kvm|svm' | tail -n 5; exit 4; }
            echo "MODULES-LOADED $(grep -c -w svm /proc/cpuinfo) svm cpus"
            {{KernelGuestRunner.GuestPath}} {{runnerArguments}}
            """;
        var result = await RepositoryGuest.RunAsync(new LinuxGuestOptions
        {
            Script = script + "\n",
            Files = files,
            CpuModel = "max",
            MemoryMiB = 2048,
            Timeout = TimeSpan.FromMinutes(10),
        }, cancellationToken);
        return new KernelGuestRun(result);
    }
}
