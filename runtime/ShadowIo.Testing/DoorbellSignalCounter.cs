using ShadowIo.Binding;

namespace ShadowIo.Testing;

/// <summary>
/// The emulator side of a doorbell test: a thread of its own blocked in
/// <see cref="DoorbellEvents.Wait"/> while the vCPU runs, as a device thread would be, summing the
/// signals of each row of one source. Testing with a real waiter matters: it is what shows that
/// every signal arrives while the guest runs, not only what a drain after the run finds.
/// </summary>
public sealed class DoorbellSignalCounter : IDisposable
{
    private readonly DoorbellEvents _events;
    private readonly int _source;
    private readonly ulong[] _signals;
    private readonly Thread _thread;
    private volatile bool _stop;

    /// <summary>Starts the counting thread at once; it waits until <see cref="Stop"/>.</summary>
    /// <param name="events">The set to wait on; the counter's thread is its only waiter.</param>
    /// <param name="source">The id <c>DoorbellEvents.Add</c> returned for the binding to count.</param>
    /// <param name="rows">Rows of that binding's table.</param>
    public DoorbellSignalCounter(DoorbellEvents events, int source, int rows)
    {
        ArgumentNullException.ThrowIfNull(events);
        _events = events;
        _source = source;
        _signals = new ulong[rows];
        _thread = new Thread(Loop) { IsBackground = true, Name = "doorbell signal counter" };
        _thread.Start();
    }

    /// <summary>Events from any other source (a binding's events must carry its own id); read after <see cref="Stop"/>.</summary>
    public long OtherSourceEvents { get; private set; }

    private void Loop()
    {
        var batch = new DoorbellEvent[32];
        while (!_stop)
            Add(batch.AsSpan(0, _events.Wait(batch, 5000)));
        // Whatever KVM signalled after the last wait is still counted in the eventfds.
        int rest;
        while ((rest = _events.Wait(batch, 0)) > 0)
            Add(batch.AsSpan(0, rest));
    }

    private void Add(ReadOnlySpan<DoorbellEvent> fired)
    {
        foreach (var e in fired)
        {
            if (e.Source == _source) _signals[e.Row] += e.Signals;
            else OtherSourceEvents++;
        }
    }

    /// <summary>Wakes and joins the thread (draining what is left) and returns the signals per row.</summary>
    public ulong[] Stop()
    {
        if (_thread.IsAlive)
        {
            _stop = true;
            _events.Wake();
            _thread.Join();
        }
        return _signals;
    }

    /// <summary>Stops the thread as <see cref="Stop"/> does; the counts stay readable.</summary>
    public void Dispose() => Stop();
}
