using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.Binding;

/// <summary>
/// One epoll set over the eventfds of one or more <see cref="DoorbellBinding"/>s: the emulator's
/// single wait for "some doorbell rang", whatever each binding's mode. <see cref="Wait"/> may be
/// called from any one thread at a time (typically the emulator's own); <see cref="Wake"/> from any.
/// Steady state allocates nothing.
/// </summary>
public sealed unsafe class DoorbellEvents : IDisposable
{
    /// <summary>epoll data of the wake eventfd; doorbells use (source &lt;&lt; 32) | row.</summary>
    private const ulong WakeToken = ulong.MaxValue;
    private const int MaxBatch = 256;

    private readonly Lock _gate = new();
    private int _epollFd;
    private int _wakeFd;
    /// <summary>Indexed by source id; replaced (never mutated) so Wait can read it without locking.</summary>
    private DoorbellBinding?[] _sources = [];

    public DoorbellEvents()
    {
        _epollFd = epoll_create1(EPOLL_CLOEXEC);
        if (_epollFd < 0) throw PosixError.Create("epoll_create1", "DoorbellEvents");
        _wakeFd = BindingEventFd.Create("DoorbellEvents.Wake");
        Control(EPOLL_CTL_ADD, _wakeFd, WakeToken);
    }

    /// <summary>Adds every bound row of <paramref name="binding"/>; returns its source id for <see cref="DoorbellEvent.Source"/>.</summary>
    public int Add(DoorbellBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        lock (_gate)
        {
            int source = _sources.Length;
            for (int row = 0; row < binding.Table.Count; row++)
            {
                int fd = binding.EventFd(row);
                if (fd >= 0) Control(EPOLL_CTL_ADD, fd, ((ulong)(uint)source << 32) | (uint)row);
            }
            Volatile.Write(ref _sources, [.. _sources, binding]);
            return source;
        }
    }

    /// <summary>Stops watching a source (its binding's fds leave the set; disposing a binding does this too).</summary>
    public void Remove(int source)
    {
        lock (_gate)
        {
            if ((uint)source >= (uint)_sources.Length || _sources[source] is not { } binding) return;
            for (int row = 0; row < binding.Table.Count; row++)
            {
                int fd = binding.EventFd(row);
                if (fd >= 0) epoll_ctl(_epollFd, EPOLL_CTL_DEL, fd, null);
            }
            var copy = _sources.ToArray();
            copy[source] = null;
            Volatile.Write(ref _sources, copy);
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> (-1 = forever, 0 = poll) for doorbells,
    /// drains each fired eventfd and fills <paramref name="events"/>. Returns how many were filled;
    /// 0 on timeout or after <see cref="Wake"/>.
    /// </summary>
    public int Wait(Span<DoorbellEvent> events, int timeoutMilliseconds)
    {
        if (events.IsEmpty) return 0;
        int max = Math.Min(events.Length, MaxBatch);
        epoll_event* ready = stackalloc epoll_event[max];
        int n;
        while ((n = epoll_wait(EpollFd, ready, max, timeoutMilliseconds)) < 0)
        {
            int e = errno;
            if (e != EINTR) throw PosixError.Create("epoll_wait", "DoorbellEvents", e);
        }
        var sources = Volatile.Read(ref _sources);
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            ulong token = ready[i].data.u64;
            if (token == WakeToken)
            {
                BindingEventFd.Drain(_wakeFd);
                continue;
            }
            int source = (int)(token >> 32), row = (int)(uint)token;
            if ((uint)source >= (uint)sources.Length || sources[source] is not { } binding) continue;
            int fd = binding.EventFd(row);
            if (fd < 0) continue;
            ulong signals = BindingEventFd.Drain(fd);
            if (signals != 0) events[count++] = new DoorbellEvent(source, row) { Signals = signals };
        }
        return count;
    }

    /// <summary>Makes a blocked (or the next) <see cref="Wait"/> return: use it to stop the emulator thread.</summary>
    public void Wake() => BindingEventFd.Signal(_wakeFd);

    private int EpollFd => _epollFd >= 0 ? _epollFd : throw new ObjectDisposedException(nameof(DoorbellEvents));

    private void Control(int op, int fd, ulong token)
    {
        var ev = new epoll_event { events = EPOLLIN };
        ev.data.u64 = token;
        if (epoll_ctl(_epollFd, op, fd, &ev) != 0)
            throw PosixError.Create($"epoll_ctl({(op == EPOLL_CTL_ADD ? "ADD" : "DEL")})", $"fd {fd}");
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_epollFd < 0) return;
            close(_epollFd);
            close(_wakeFd);
            _epollFd = _wakeFd = -1;
            _sources = [];
        }
    }
}
