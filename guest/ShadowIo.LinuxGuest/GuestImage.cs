namespace ShadowIo.LinuxGuest;

/// <summary>
/// The Debian-package test guest built by <c>guest/setup.sh</c>: kernel, base initramfs, QEMU.
/// The script is idempotent and cached (keyed by package versions), so the first caller in a
/// process pays for set-up on a fresh machine (QEMU install, downloads, extraction) and every
/// later run costs a version check. Fails loudly when QEMU cannot be installed or Debian does
/// not serve a package: on this machine those are broken set-ups, not absent features.
/// </summary>
/// <remarks>The caller says where the script is (the tests from the repository root, the demo
/// from its <c>--guest-setup</c> option or the directories above it).</remarks>
public sealed class GuestImage
{
    private GuestImage(IReadOnlyDictionary<string, string> values)
    {
        string Get(string key) => SetupScript.Require(values, "guest/setup.sh", key);
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

    /// <summary>The base initramfs as a directory tree (guest path <c>/etc/x</c> is <c>RootDirectory/etc/x</c>).</summary>
    public string RootDirectory => Path.Combine(Directory, "root");

    /// <summary>/lib/modules/&lt;release&gt; inside <see cref="Sysroot"/>.</summary>
    public string ModulesDirectory => Path.Combine(Sysroot, "lib", "modules", KernelRelease);

    /// <summary>How long the set-up script took when this process ran it.</summary>
    public TimeSpan SetUpTime { get; private init; }

    /// <summary>Runs <paramref name="setupScript"/> (guest/setup.sh) once per process and returns the guest it built or found.</summary>
    /// <param name="setupScript">Path of guest/setup.sh.</param>
    /// <param name="log">Receives the script's progress (its stderr) line by line while it runs.</param>
    /// <param name="cancellationToken">Cancels the set-up (the script is killed).</param>
    public static async Task<GuestImage> GetAsync(string setupScript, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var (values, elapsed) = await SetupScript.RunOnceAsync(
            setupScript, "the test guest (it needs qemu-system-x86 and Debian's kernel/busybox/fio/nvme-cli packages)", log, cancellationToken);
        return new GuestImage(values) { SetUpTime = elapsed };
    }
}
