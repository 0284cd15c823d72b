using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Native;

/// <summary>
/// epoll over a fixed set of non-blocking eventfds, each tagged with an integer; one extra
/// eventfd wakes a blocked <see cref="Wait"/> for shutdown. Tmds.Linux's <c>epoll_event</c> is
/// already the packed 12-byte x86_64 layout, so its epoll calls are used as they are.
/// </summary>
internal sealed unsafe class EventFdSet : IDisposable
{
    private const int WakeTag = -1;

    private readonly int _epollFd;
    private readonly int _wakeFd;
    private readonly epoll_event[] _events = new epoll_event[64];

    public EventFdSet()
    {
        _epollFd = epoll_create1(EPOLL_CLOEXEC);
        if (_epollFd < 0) throw PosixError.Create("epoll_create1", "doorbell events");
        _wakeFd = FileDescriptors.CreateEventFd();
        Add(_wakeFd, WakeTag);
    }

    public void Add(int eventFd, int tag)
    {
        // The fd rides in the high half of the event data so Wait can drain it without a lookup.
        var e = new epoll_event { events = EPOLLIN };
        e.data.u64 = ((ulong)(uint)eventFd << 32) | (uint)tag;
        if (epoll_ctl(_epollFd, EPOLL_CTL_ADD, eventFd, &e) != 0)
            throw PosixError.Create("epoll_ctl", $"eventfd {eventFd}");
    }

    /// <summary>Waits for fired eventfds, drains them and stores their tags; returns how many (0 on timeout or wake).</summary>
    public int Wait(Span<int> tags, int timeoutMilliseconds)
    {
        int n;
        fixed (epoll_event* events = _events)
        {
            n = epoll_wait(_epollFd, events, Math.Min(_events.Length, Math.Max(tags.Length, 1)), timeoutMilliseconds);
        }
        if (n < 0) return 0; // EINTR
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            ulong data = _events[i].data.u64;
            int tag = (int)(uint)data;
            // Level-triggered: an eventfd left undrained would fire again at once.
            FileDescriptors.DrainEventFd((int)(data >> 32));
            if (tag == WakeTag) continue;
            if (count < tags.Length) tags[count++] = tag;
        }
        return count;
    }

    public void Wake() => FileDescriptors.SignalEventFd(_wakeFd);

    public void Dispose()
    {
        close(_wakeFd);
        close(_epollFd);
    }
}
