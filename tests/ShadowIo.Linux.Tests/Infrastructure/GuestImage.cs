using System.Diagnostics;

namespace ShadowIo.Linux.Tests.Infrastructure;

/// <summary>
/// The Debian-package test guest built by <c>guest/setup.sh</c>: kernel, base initramfs, QEMU.
/// The script is idempotent and cached (keyed by package versions), so the first test in a
/// process pays for set-up on a fresh machine (QEMU install, downloads, extraction) and every
/// later call costs a version check. Fails loudly — never skips — when QEMU cannot be installed
/// or Debian does not serve a package: on this machine those are broken set-ups, not absent
/// features.
/// </summary>
public sealed class GuestImage
{
    private static readonly SemaphoreSlim SetUpLock = new(1, 1);
    private static GuestImage? current;

    private GuestImage(IReadOnlyDictionary<string, string> values)
    {
        string Get(string key) => values.TryGetValue(key, out var v)
            ? v
            : throw new InvalidOperationException($"guest/setup.sh printed no {key}");
        QemuPath = Get("SHADOWIO_QEMU");
        Directory = Get("SHADOWIO_GUEST_DIR");
        KernelPath = Get("SHADOWIO_GUEST_KERNEL");
        InitrdPath = Get("SHADOWIO_GUEST_INITRD");
        KernelRelease = Get("SHADOWIO_GUEST_KVER");
        DebianVersion = Get("SHADOWIO_GUEST_KERNEL_VERSION");
        Sysroot = Get("SHADOWIO_GUEST_SYSROOT");
    }

    /// <summary>qemu-system-x86_64 (Debian's 7.2).</summary>
    public string QemuPath { get; }

    /// <summary>The cache directory of this guest build.</summary>
    public string Directory { get; }

    /// <summary>vmlinuz of linux-image-&lt;KernelRelease&gt;.</summary>
    public string KernelPath { get; }

    /// <summary>Base initramfs (uncompressed newc); overlays are appended as further archives.</summary>
    public string InitrdPath { get; }

    /// <summary>uname -r of the guest kernel, e.g. 6.1.0-56-amd64.</summary>
    public string KernelRelease { get; }

    /// <summary>Debian version of the kernel packages, e.g. 6.1.192-2.</summary>
    public string DebianVersion { get; }

    /// <summary>Every downloaded package extracted (kernel modules, binaries, libraries).</summary>
    public string Sysroot { get; }

    /// <summary>/lib/modules/&lt;release&gt; inside <see cref="Sysroot"/>.</summary>
    public string ModulesDirectory => Path.Combine(Sysroot, "lib", "modules", KernelRelease);

    /// <summary>How long the set-up script took in this process (first call only).</summary>
    public TimeSpan SetUpTime { get; private init; }

    /// <summary>Runs guest/setup.sh once per process and returns the guest it built or found.</summary>
    public static async Task<GuestImage> GetAsync(CancellationToken cancellationToken = default)
    {
        if (current is { } ready)
            return ready;
        await SetUpLock.WaitAsync(cancellationToken);
        try
        {
            if (current is null)
            {
                var script = Path.Combine(RepositoryPaths.Root, "guest", "setup.sh");
                var stopwatch = Stopwatch.StartNew();
                var result = await ScriptRunner.RunAsync("bash", [script], TimeSpan.FromMinutes(30), cancellationToken: cancellationToken);
                if (result.ExitCode != 0)
                {
                    throw new InvalidOperationException(
                        $"guest/setup.sh failed (exit {result.ExitCode}); the test guest needs qemu-system-x86 and Debian's "
                        + $"kernel/busybox/fio/nvme-cli packages. Its output:\n{ScriptRunner.Tail(result.StandardError, 40)}");
                }
                current = new GuestImage(ScriptRunner.ParseKeyValues(result.StandardOutput)) { SetUpTime = stopwatch.Elapsed };
            }
            return current;
        }
        finally
        {
            SetUpLock.Release();
        }
    }
}
