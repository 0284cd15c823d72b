using System.Runtime.InteropServices;

namespace ShadowIo.LinuxGuest;

/// <summary>
/// The machine-wide right to run one TCG guest: an exclusive <c>flock</c> on
/// <c>~/.cache/shadowio/tcg-guest.lock</c>, held from QEMU's start to its exit.
/// </summary>
/// <remarks>
/// A guest emulates each vCPU on a host thread (multi-threaded TCG) and its devices and timers
/// (PIT, serial, the proxy's socket) on QEMU's main-loop thread. Two or three guests at once beside
/// the other test assemblies' KVM guests put a dozen busy threads on this machine's two cores, and
/// the guest kernel's timing assumptions break: the boot-time timer check panics (see
/// <c>no_timer_check</c> in <see cref="LinuxGuestRunner"/>), and the nested-KVM tests wedged with
/// both vCPUs in soft lockup only in runs with several TCG guests at once. One guest at a time,
/// across every test process and the demo's <c>linux</c> verb, keeps a loaded first run as
/// healthy as an idle one. A lock file rather than an in-process semaphore: <c>dotnet test</c>
/// runs each test assembly in its own process, and the kernel drops a <c>flock</c> when its
/// holder dies.
/// </remarks>
public sealed partial class TcgGuestSlot : IDisposable
{
    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;
    private const int EWOULDBLOCK = 11;
    private const int EINTR = 4;
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(200);

    private readonly FileStream _file;

    private TcgGuestSlot(FileStream file) => _file = file;

    /// <summary>The lock file: <c>$SHADOWIO_TCG_LOCK</c>, else under <c>$XDG_CACHE_HOME</c> (or <c>~/.cache</c>)/shadowio.</summary>
    public static string LockPath =>
        Environment.GetEnvironmentVariable("SHADOWIO_TCG_LOCK") is { Length: > 0 } path
            ? path
            : Path.Combine(
                Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache
                    ? cache
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
                "shadowio", "tcg-guest.lock");

    /// <summary>Waits (without a thread blocked in the kernel, so cancellation works) until no other guest runs.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public static async Task<TcgGuestSlot> AcquireAsync(CancellationToken cancellationToken = default)
    {
        var path = LockPath;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        try
        {
            while (true)
            {
                if (Flock(file.SafeFileHandle, LOCK_EX | LOCK_NB) == 0)
                    return new TcgGuestSlot(file);
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EWOULDBLOCK && errno != EINTR)
                    throw new IOException($"flock({path}) failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})");
                await Task.Delay(RetryInterval, cancellationToken);
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Releases the slot (closing the file drops the lock).</summary>
    public void Dispose() => _file.Dispose();

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeHandle fd, int operation);
}
