using ShadowIo.LinuxGuest;

namespace ShadowIo.Linux.Tests.Infrastructure;

/// <summary>
/// kvm.ko and kvm-amd.ko rebuilt with kernel/kvm-ioeventfd-post-write.patch for the test guest's
/// kernel, by kernel/build-kvm-modules.sh (cached by patch hash and kernel version; a cold build
/// fetches Debian's linux-source, headers and kbuild and compiles two modules).
/// </summary>
public sealed class PatchedKvmModules
{
    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static PatchedKvmModules? current;

    private PatchedKvmModules(IReadOnlyDictionary<string, string> values)
    {
        string Get(string key) => values.TryGetValue(key, out var v)
            ? v
            : throw new InvalidOperationException($"kernel/build-kvm-modules.sh printed no {key}");
        KvmPath = Get("SHADOWIO_KVM_KO");
        KvmAmdPath = Get("SHADOWIO_KVM_AMD_KO");
        KernelRelease = Get("SHADOWIO_KVM_KVER");
        BuildSeconds = int.Parse(Get("SHADOWIO_KVM_BUILD_SECONDS"), System.Globalization.CultureInfo.InvariantCulture);
    }

    public string KvmPath { get; }

    public string KvmAmdPath { get; }

    public string KernelRelease { get; }

    /// <summary>How long the build that filled the cache took.</summary>
    public int BuildSeconds { get; }

    /// <summary>How long the script took in this process (a cache hit costs a version check).</summary>
    public TimeSpan ScriptTime { get; private init; }

    public static async Task<PatchedKvmModules> GetAsync(CancellationToken cancellationToken = default)
    {
        if (current is { } ready)
            return ready;
        await BuildLock.WaitAsync(cancellationToken);
        try
        {
            if (current is null)
            {
                var script = Path.Combine(RepositoryPaths.Root, "kernel", "build-kvm-modules.sh");
                var result = await ScriptRunner.RunAsync("bash", [script], TimeSpan.FromMinutes(45), cancellationToken: cancellationToken);
                if (result.ExitCode != 0)
                {
                    throw new InvalidOperationException(
                        $"kernel/build-kvm-modules.sh failed (exit {result.ExitCode}): the patched kvm modules need Debian's "
                        + $"linux-source, linux-headers and linux-kbuild at the guest kernel's version. Its output:\n{ScriptRunner.Tail(result.StandardError, 40)}");
                }
                current = new PatchedKvmModules(ScriptRunner.ParseKeyValues(result.StandardOutput)) { ScriptTime = result.Elapsed };
            }
            return current;
        }
        finally
        {
            BuildLock.Release();
        }
    }
}
