namespace ShadowIo.LinuxGuest;

/// <summary>
/// The Debian trixie root built by <c>guest/qemu-root.sh</c>, holding QEMU 11.1 from
/// trixie-backports: the QEMU with the <c>vfio-user-pci</c> client. It needs a newer glibc than
/// this machine's, so it runs chrooted in the root (<see cref="LinuxGuestOptions.QemuRoot"/>):
/// the kernel, the initramfs and any socket QEMU opens must be inside the root, in a
/// <see cref="QemuRootDirectory"/>.
/// </summary>
/// <remarks>The script is cached and atomic (a root is used only once completely built), so the
/// first caller on a fresh machine pays for it (mmdebstrap: about 30 s and 256 MB here) and later
/// ones only find it.</remarks>
public sealed class QemuRoot
{
    /// <summary>Where run directories live inside the root (<c>/run</c> of the root: a directory of its own tree, nothing mounted).</summary>
    private const string RunDirectoryInRoot = "/run/shadowio";

    private QemuRoot(IReadOnlyDictionary<string, string> values)
    {
        string Get(string key) => SetupScript.Require(values, "guest/qemu-root.sh", key);
        Directory = Get("SHADOWIO_QEMU_ROOT");
        QemuPath = Get("SHADOWIO_QEMU_ROOT_QEMU");
        QemuVersion = Get("SHADOWIO_QEMU_ROOT_VERSION");
    }

    /// <summary>The root directory (a host path).</summary>
    public string Directory { get; }

    /// <summary>qemu-system-x86_64 as seen inside the root (<c>/usr/bin/qemu-system-x86_64</c>).</summary>
    public string QemuPath { get; }

    /// <summary>Debian version of qemu-system-x86 in the root, e.g. <c>1:11.1.3+ds-1~bpo13+1</c>.</summary>
    public string QemuVersion { get; }

    /// <summary>How long the set-up script took when this process ran it.</summary>
    public TimeSpan SetUpTime { get; private init; }

    /// <summary>Runs <paramref name="setupScript"/> (guest/qemu-root.sh) once per process and returns the root it built or found.</summary>
    /// <param name="setupScript">Path of guest/qemu-root.sh.</param>
    /// <param name="log">Receives the script's progress (its stderr) line by line while it runs.</param>
    /// <param name="cancellationToken">Cancels the set-up (the script is killed; its unfinished root is never used).</param>
    public static async Task<QemuRoot> GetAsync(string setupScript, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        var (values, elapsed) = await SetupScript.RunOnceAsync(
            setupScript, "QEMU 11.1 in a Debian trixie root (it needs mmdebstrap and Debian's trixie and trixie-backports suites)", log, cancellationToken);
        var root = new QemuRoot(values) { SetUpTime = elapsed };
        root.RemoveAbandonedRunDirectories();
        return root;
    }

    /// <summary>A new, empty directory inside the root for one run's files (kernel, initramfs, sockets), removed when disposed.</summary>
    public QemuRootDirectory CreateRunDirectory()
    {
        // Short: a socket's host path must fit sockaddr_un's 108 bytes, and the root is already deep in the cache.
        var name = $"{Environment.ProcessId}-{Random.Shared.Next():x8}";
        return new QemuRootDirectory(Path.Combine(Directory, RunDirectoryInRoot.TrimStart('/'), name), $"{RunDirectoryInRoot}/{name}");
    }

    /// <summary>
    /// Run directories of processes that died before disposing them (killed test runs). Each is
    /// named after its process, so only those whose process is gone are removed.
    /// </summary>
    private void RemoveAbandonedRunDirectories()
    {
        var runs = Path.Combine(Directory, RunDirectoryInRoot.TrimStart('/'));
        if (!System.IO.Directory.Exists(runs))
            return;
        foreach (var run in System.IO.Directory.EnumerateDirectories(runs))
        {
            var name = Path.GetFileName(run);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(name.AsSpan(0, dash), out var pid) && !System.IO.Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    System.IO.Directory.Delete(run, recursive: true);
                }
                catch (IOException)
                {
                    // Another process cleaning up at the same moment: it is gone either way.
                }
            }
        }
    }
}
