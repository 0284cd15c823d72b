using static Tmds.Linux.LibC;

namespace ShadowIo.Native;

/// <summary>
/// An owned, non-blocking eventfd (eventfd(2)): the counter KVM adds 1 to when an ioeventfd
/// matches, and what every doorbell, wake and interrupt line of the runtime signals.
/// </summary>
/// <remarks>
/// <para>The one EINTR/EAGAIN policy for eventfds: <see cref="Signal"/> and <see cref="Drain"/>
/// retry EINTR (nothing happened, so retrying is exact). EAGAIN is an answer, not a failure: on
/// write, the counter is saturated (2^64 − 2), which a waiter already sees as signalled; on read,
/// nothing is pending (0). Any other failure cannot happen on an open eventfd with an 8-byte
/// buffer and is reported as false / 0: these calls sit on trap and interrupt paths that must
/// never throw.</para>
/// <para>Both hold a reference on the handle for the duration of the syscall, so a concurrent
/// Dispose never leaves them writing to a closed descriptor or to one the kernel has reused.</para>
/// </remarks>
internal sealed unsafe class EventFd : FileDescriptorHandle
{
    private EventFd(int fd) : base(fd) { }

    /// <summary>A new eventfd with counter 0, non-blocking and close-on-exec.</summary>
    /// <param name="purpose">What it is for, named in the exception if creation fails.</param>
    public static EventFd Create(string purpose)
    {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) throw PosixError.Create("eventfd", purpose);
        return new EventFd(fd);
    }

    /// <summary>Takes ownership of an eventfd received from elsewhere (QEMU's SET_IRQFD); the caller checked what it is.</summary>
    public static EventFd FromOwned(int fd) => new(fd);

    /// <summary>Sets O_NONBLOCK on a received eventfd, so a draining read can never block its caller.</summary>
    public void SetNonBlocking()
    {
        if (!TryAddRef()) return;
        try
        {
            int fd = (int)handle;
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        }
        finally
        {
            DangerousRelease();
        }
    }

    /// <summary>Adds 1 to the counter. False only when the handle is closed (or the fd is no eventfd).</summary>
    public bool Signal()
    {
        if (!TryAddRef()) return false;
        try
        {
            ulong one = 1;
            while (true)
            {
                if (write((int)handle, &one, sizeof(ulong)) == sizeof(ulong)) return true;
                int error = Errno.Current;
                if (error == Errno.EINTR) continue;
                return error == Errno.EAGAIN;
            }
        }
        finally
        {
            DangerousRelease();
        }
    }

    /// <summary>Reads and resets the counter: how many signals were pending (0 for none, or a closed handle).</summary>
    public ulong Drain()
    {
        if (!TryAddRef()) return 0;
        try
        {
            ulong value = 0;
            while (true)
            {
                if (read((int)handle, &value, sizeof(ulong)) == sizeof(ulong)) return value;
                if (Errno.Current == Errno.EINTR) continue;
                return 0;
            }
        }
        finally
        {
            DangerousRelease();
        }
    }
}
