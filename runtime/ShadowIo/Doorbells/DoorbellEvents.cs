using ShadowIo.Binding;
using ShadowIo.Native;
using Tmds.Linux;

namespace ShadowIo;

/// <summary>
/// One wait set over the eventfds of any number of <see cref="DoorbellSet"/>s (a KVM
/// <see cref="DoorbellBinding"/>'s, a vfio-user server's): the emulator's single wait for "some
/// doorbell rang", whatever transport and mode each came through. <see cref="Wait"/> may be
/// called from any one thread at a time (typically the emulator's own); <see cref="Wake"/> from
/// any. Steady state allocates nothing.
/// </summary>
/// <remarks>
/// A source disposed while it is still in the set is harmless: its closed eventfds leave the
/// epoll set by themselves and its rows report nothing.
/// </remarks>
public sealed unsafe class DoorbellEvents : IDisposable
{
    /// <summary>epoll data of the wake eventfd; doorbells use (source &lt;&lt; 32) | row.</summary>
    private const ulong WakeToken = ulong.MaxValue;
    private const int MaxBatch = 256;

    private readonly Lock _gate = new();
    private readonly Epoll _epoll;
    private readonly EventFd _wake;
    /// <summary>Indexed by source id; replaced (never mutated) so Wait can read it without locking.</summary>
    private DoorbellSet?[] _sources = [];

    /// <summary>An empty wait set (only its own wake eventfd).</summary>
    public DoorbellEvents()
    {
        _epoll = Epoll.Create("DoorbellEvents");
        try
        {
            _wake = EventFd.Create("DoorbellEvents.Wake");
            _epoll.Add(_wake, WakeToken);
        }
        catch
        {
            _wake?.Dispose();
            _epoll.Dispose();
            throw;
        }
    }

    /// <summary>Adds every bound row of <paramref name="doorbells"/>; returns its source id for <see cref="DoorbellEvent.Source"/>.</summary>
    public int Add(DoorbellSet doorbells)
    {
        ArgumentNullException.ThrowIfNull(doorbells);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_epoll.IsClosed, this);
            int source = _sources.Length;
            for (int row = 0; row < doorbells.Table.Count; row++)
            {
                if (doorbells.EventFdOf(row) is { } fd) _epoll.Add(fd, ((ulong)(uint)source << 32) | (uint)row);
            }
            Volatile.Write(ref _sources, [.. _sources, doorbells]);
            return source;
        }
    }

    /// <summary>Adds every bound row of <paramref name="binding"/> (its <see cref="DoorbellBinding.Doorbells"/>).</summary>
    public int Add(DoorbellBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return Add(binding.Doorbells);
    }

    /// <summary>Stops watching a source (its fds leave the set; disposing the source does this too).</summary>
    public void Remove(int source)
    {
        lock (_gate)
        {
            if ((uint)source >= (uint)_sources.Length || _sources[source] is not { } doorbells) return;
            if (!_epoll.IsClosed)
            {
                for (int row = 0; row < doorbells.Table.Count; row++)
                {
                    if (doorbells.EventFdOf(row) is { } fd) _epoll.Remove(fd);
                }
            }
            var copy = _sources.ToArray();
            copy[source] = null;
            Volatile.Write(ref _sources, copy);
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> (-1 = forever, 0 = poll) for doorbells,
    /// drains each fired eventfd and fills <paramref name="events"/>. Returns how many were filled;
    /// 0 on timeout, after <see cref="Wake"/>, or when a signal interrupted the wait (see
    /// <see cref="Epoll"/>'s EINTR policy): callers loop.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The set was disposed.</exception>
    public int Wait(Span<DoorbellEvent> events, int timeoutMilliseconds)
    {
        if (events.IsEmpty) return 0;
        int max = Math.Min(events.Length, MaxBatch);
        epoll_event* ready = stackalloc epoll_event[max];
        int n = _epoll.Wait(ready, max, timeoutMilliseconds);
        var sources = Volatile.Read(ref _sources);
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            ulong token = ready[i].data.u64;
            if (token == WakeToken)
            {
                _wake.Drain();
                continue;
            }
            int source = (int)(token >> 32), row = (int)(uint)token;
            if ((uint)source >= (uint)sources.Length || sources[source] is not { } doorbells) continue;
            // Level-triggered: draining is what stops the row from firing again at once.
            ulong signals = doorbells.TakeSignals(row);
            if (signals != 0) events[count++] = new DoorbellEvent(source, row) { Signals = signals };
        }
        return count;
    }

    /// <summary>Makes a blocked (or the next) <see cref="Wait"/> return: use it to stop the emulator thread.</summary>
    public void Wake() => _wake.Signal();

    /// <summary>Closes the epoll set and the wake eventfd; the sources stay their owners'.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _epoll.Dispose();
            _wake.Dispose();
            _sources = [];
        }
    }
}
