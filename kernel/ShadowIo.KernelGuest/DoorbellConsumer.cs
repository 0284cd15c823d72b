using ShadowIo.Binding;

namespace ShadowIo.KernelGuest;

/// <summary>
/// The emulator side: a thread of its own blocked in <see cref="DoorbellEvents.Wait"/>, summing
/// the signals of each row while the vCPU runs (as a device thread would).
/// </summary>
internal sealed class DoorbellConsumer : IDisposable
{
    private readonly DoorbellEvents _events;
    private readonly ulong[] _signals;
    private readonly Thread _thread;
    private volatile bool _stop;

    public DoorbellConsumer(DoorbellEvents events, int rows)
    {
        _events = events;
        _signals = new ulong[rows];
        _thread = new Thread(Loop) { IsBackground = true, Name = "doorbell consumer" };
        _thread.Start();
    }

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
            _signals[e.Row] += e.Signals;
    }

    /// <summary>Stops the thread and returns the signals per row.</summary>
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

    public void Dispose() => Stop();
}
