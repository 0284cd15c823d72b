using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ShadowIo.LinuxGuest;

/// <summary>
/// The machine-wide right to run one TCG guest: an exclusive <c>flock</c> on
/// <c>~/.cache/shadowio/tcg-guest.lock</c>, held from QEMU's start to its exit.
/// </summary>
/// <remarks>
/// A guest emulates each vCPU on a host thread (multi-threaded TCG) and its devices and timers
/// (PIT, serial, a vfio-user socket) on QEMU's main-loop thread. Two or three guests at once beside
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

    private const int O_RDWR = 2;
    private const int O_CREAT = 0x40;
    private const int O_CLOEXEC = 0x80000;

    private readonly SafeFileHandle _file;

    private TcgGuestSlot(SafeFileHandle file) => _file = file;

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
    public static Task<TcgGuestSlot> AcquireAsync(CancellationToken cancellationToken = default) =>
        AcquireAsync(LockPath, cancellationToken);

    /// <summary>Waits until the lock file <paramref name="path"/> is free and takes it.</summary>
    /// <param name="path">The lock file (created if missing, with its directory).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public static async Task<TcgGuestSlot> AcquireAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // open(2) itself, not FileStream: .NET takes its own flock(LOCK_SH | LOCK_NB) on every file
        // it opens (FileShare emulation), which fails while another process holds the slot.
        // O_CLOEXEC: QEMU must not inherit the slot and keep it past this process.
        var file = new SafeFileHandle(Open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0x1B6), ownsHandle: true);
        if (file.IsInvalid)
        {
            int error = Marshal.GetLastPInvokeError();
            file.Dispose();
            throw new IOException($"cannot open the TCG guest lock {path}: errno {error} ({Marshal.GetPInvokeErrorMessage(error)})");
        }
        try
        {
            while (true)
            {
                if (Flock(file, LOCK_EX | LOCK_NB) == 0)
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

    /// <summary>Releases the slot (closing the descriptor drops the lock).</summary>
    public void Dispose() => _file.Dispose();

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeHandle fd, int operation);
}
