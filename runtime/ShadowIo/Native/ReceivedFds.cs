using ShadowIo.Native;

namespace ShadowIo.Native;

/// <summary>
/// The fds (SCM_RIGHTS) that came with one message, owned here until the handler takes the ones it
/// keeps: whatever it does not take is closed by the next receive, by <see cref="CloseAll"/> or by
/// disposal, so a rejected message, an error path or an exception never leaks a peer's fd.
/// </summary>
internal sealed class ReceivedFds : IDisposable
{
    private readonly int[] _fds;

    /// <summary>Room for <paramref name="capacity"/> fds; more arriving with one message are closed at once and <see cref="Overflowed"/> is set.</summary>
    public ReceivedFds(int capacity) => _fds = new int[capacity];

    /// <summary>How many fds arrived (taken ones included).</summary>
    public int Count { get; private set; }

    /// <summary>More fds arrived than the capacity (they were closed): the message cannot be trusted.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Fd <paramref name="index"/> for a call that only looks at it (fstat, a check); -1 once taken. Stays owned here.</summary>
    public int Peek(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _fds[index];
    }

    /// <summary>Moves fd <paramref name="index"/> to the caller, who owns it from now on.</summary>
    /// <exception cref="InvalidOperationException">It was taken already.</exception>
    public FileDescriptorHandle Take(int index)
    {
        int fd = Peek(index);
        if (fd < 0)
            throw new InvalidOperationException($"fd {index} of the message was taken already.");
        _fds[index] = -1;
        return new FileDescriptorHandle(fd);
    }

    /// <summary>
    /// Moves fd <paramref name="index"/> to the caller as an eventfd; the caller checked that it is
    /// one (<see cref="FileDescriptors.IsEventFd"/> on <see cref="Peek"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">It was taken already.</exception>
    public EventFd TakeEventFd(int index)
    {
        int fd = Peek(index);
        if (fd < 0)
            throw new InvalidOperationException($"fd {index} of the message was taken already.");
        _fds[index] = -1;
        return EventFd.FromOwned(fd);
    }

    /// <summary>Closes every fd not taken and empties the list.</summary>
    public void CloseAll()
    {
        FileDescriptors.CloseAll(_fds.AsSpan(0, Count));
        _fds.AsSpan(0, Count).Fill(-1);
        Count = 0;
        Overflowed = false;
    }

    /// <summary>Closes every fd not taken.</summary>
    public void Dispose() => CloseAll();

    /// <summary>
    /// Keeps the fds of the SCM_RIGHTS control data the kernel returned (<paramref name="length"/>
    /// bytes, msg_controllen); those past the capacity are closed at once and set <see cref="Overflowed"/>.
    /// </summary>
    internal unsafe void Collect(byte* control, long length)
    {
        Count += RightsControl.Collect(control, length, _fds.AsSpan(Count), out bool overflowed);
        Overflowed |= overflowed;
    }
}
