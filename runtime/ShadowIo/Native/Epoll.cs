using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.Native;

/// <summary>
/// An owned epoll instance (epoll(7)), level-triggered, each watched descriptor tagged with a
/// 64-bit token. Tmds.Linux's <c>epoll_event</c> is already the packed 12-byte x86_64 layout.
/// </summary>
/// <remarks>
/// EINTR policy: <see cref="Wait"/> returns 0 (a spurious wake-up) instead of restarting, so a
/// timeout is never stretched; every caller already treats 0 as "look again". Any other failure
/// is a bug (a bad buffer or a closed instance) and throws.
/// </remarks>
internal sealed unsafe class Epoll : FileDescriptorHandle
{
    private Epoll(int fd) : base(fd) { }

    /// <summary>A new, empty, close-on-exec epoll instance.</summary>
    public static Epoll Create(string purpose)
    {
        int fd = epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0) throw PosixError.Create("epoll_create1", purpose);
        return new Epoll(fd);
    }

    /// <summary>Watches <paramref name="target"/> for readability; <see cref="Wait"/> reports it as <paramref name="token"/>.</summary>
    /// <exception cref="IOException">epoll_ctl refused (already watched, or the descriptor is closed).</exception>
    public void Add(FileDescriptorHandle target, ulong token)
    {
        bool added = false;
        target.DangerousAddRef(ref added);
        try
        {
            var ev = new epoll_event { events = EPOLLIN };
            ev.data.u64 = token;
            if (epoll_ctl(Fd, EPOLL_CTL_ADD, target.Fd, &ev) != 0)
                throw PosixError.Create("epoll_ctl(ADD)", $"fd {target.Fd}");
        }
        finally
        {
            if (added) target.DangerousRelease();
        }
    }

    /// <summary>Stops watching <paramref name="target"/>; nothing happens if it is closed (closing already removed it).</summary>
    public void Remove(FileDescriptorHandle target)
    {
        if (!target.TryAddRef()) return;
        try
        {
            epoll_ctl(Fd, EPOLL_CTL_DEL, target.Fd, null);
        }
        finally
        {
            target.DangerousRelease();
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> (-1 = forever, 0 = poll) and fills up to
    /// <paramref name="max"/> events; returns how many (0 on timeout or EINTR).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public int Wait(epoll_event* events, int max, int timeoutMilliseconds)
    {
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            int n = epoll_wait((int)handle, events, max, timeoutMilliseconds);
            if (n >= 0) return n;
            int error = Errno.Current;
            if (error == Errno.EINTR) return 0;
            throw PosixError.Create("epoll_wait", "a doorbell wait set", error);
        }
        finally
        {
            if (added) DangerousRelease();
        }
    }
}
