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
            # A nested guest livelocked once inside KVM_RUN (two vCPUs, both busy, no soft lockup or
            # RCU stall to report it, in the first post-write deassign run). The runner prints a
            # record per step, seconds apart; silence for {{SilenceSeconds}} s means wedged: print
            # where its threads and the CPUs are, and end the run (exit {{WedgedExitCode}}).
            {{KernelGuestRunner.GuestPath}} {{runnerArguments}} > /tmp/runner.out 2>&1 &
            pid=$!
            last=-1; quiet=0
            while kill -0 $pid 2>/dev/null; do
              sleep 2
              size=$(wc -c < /tmp/runner.out)
              if [ "$size" = "$last" ]; then quiet=$((quiet + 2)); else quiet=0; last=$size; fi
              [ $quiet -lt {{SilenceSeconds}} ] && continue
              cat /tmp/runner.out
              echo "{{WedgedRecord}} no record for {{SilenceSeconds}} s"
              for t in /proc/$pid/task/*; do
                echo "TASK $(cat $t/comm) state $(cut -d' ' -f3 $t/stat) wchan $(cat $t/wchan)"; cat $t/stack
              done
              echo l > /proc/sysrq-trigger; sleep 2
              dmesg | tail -n 150
              exit {{WedgedExitCode}}
            done
            cat /tmp/runner.out
            wait $pid
            """;
        var options = new LinuxGuestOptions
        {
            Script = script + "\n",
            Files = files,
            CpuModel = "max",
            // One vCPU: with two, MTTCG guests running nested KVM stalled here even on an idle host
            // (an RCU stall with both CPUs idle at 25 s: a wakeup IPI that never arrived; earlier,
            // soft lockups on both CPUs). One CPU has no cross-CPU wakeups to lose.
            Cpus = 1,
            MemoryMiB = 2048,
            Timeout = TimeSpan.FromMinutes(10),
        };
        return new KernelGuestRun(await RepositoryGuest.RunAsync(options, cancellationToken));
    }

    private const int SilenceSeconds = 120;
    private const int WedgedExitCode = 9;
    private const string WedgedRecord = "WEDGED";
}
