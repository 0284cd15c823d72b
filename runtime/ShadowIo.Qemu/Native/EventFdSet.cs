using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Native;

/// <summary>
/// epoll over a fixed set of non-blocking eventfds, each tagged with an integer; one extra
/// eventfd wakes a blocked <see cref="Wait"/> for shutdown. <c>struct epoll_event</c> is packed
/// (12 bytes) on x86_64, so it is declared here rather than trusted to a binding.
/// </summary>
internal sealed unsafe partial class EventFdSet : IDisposable
{
    private const int EpollIn = 0x001;
    private const int EpollCtlAdd = 1;
    private const int WakeTag = -1;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    private readonly int _epollFd;
    private readonly int _wakeFd;
    private readonly EpollEvent[] _events = new EpollEvent[64];

    public EventFdSet()
    {
        _epollFd = EpollCreate(0x80000 /* EPOLL_CLOEXEC */);
        if (_epollFd < 0) throw PosixError.Create("epoll_create1", "doorbell events", Marshal.GetLastPInvokeError());
        _wakeFd = FileDescriptors.CreateEventFd();
        Add(_wakeFd, WakeTag);
    }

    public void Add(int eventFd, int tag)
    {
        // The fd rides in the high half of the event data so Wait can drain it without a lookup.
        var e = new EpollEvent { Events = EpollIn, Data = ((ulong)(uint)eventFd << 32) | (uint)tag };
        if (EpollControl(_epollFd, EpollCtlAdd, eventFd, &e) != 0)
            throw PosixError.Create("epoll_ctl", $"eventfd {eventFd}", Marshal.GetLastPInvokeError());
    }

    /// <summary>Waits for fired eventfds, drains them and stores their tags; returns how many (0 on timeout or wake).</summary>
    public int Wait(Span<int> tags, int timeoutMilliseconds)
    {
        int n;
        fixed (EpollEvent* events = _events)
        {
            n = EpollWait(_epollFd, events, Math.Min(_events.Length, Math.Max(tags.Length, 1)), timeoutMilliseconds);
        }
        if (n < 0) return 0; // EINTR
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            int tag = (int)(uint)_events[i].Data;
            // Level-triggered: an eventfd left undrained would fire again at once.
            FileDescriptors.DrainEventFd((int)(_events[i].Data >> 32));
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

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollControl(int epollFd, int operation, int fd, EpollEvent* e);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWait(int epollFd, EpollEvent* events, int maxEvents, int timeout);
}
