using ShadowIo.Native;

namespace ShadowIo.Qemu.Interrupts;

/// <summary>
/// The function's INTx pin, carried by the two eventfds QEMU hands over with SET_IRQFD.
/// </summary>
/// <remarks>
/// <para>QEMU's proxy wires them as a KVM resampling irqfd (proxy_intx_update): a signal on
/// <c>intr</c> asserts the GSI; at the guest's EOI KVM deasserts it and signals
/// <c>resample</c>, and a device whose line is still high must signal <c>intr</c> again —
/// that is level-triggered INTx over edge events. Under TCG the proxy never connects the
/// irqfd to anything, so signals go nowhere and the guest must poll (measured on 7.2).</para>
/// <para>Ordering: the line's lock owns the level. <see cref="SetLevel"/> may run on any thread
/// (the device's); each change, its signal and its <see cref="LevelChanged"/> notification happen
/// together under that lock, so observers see every change once, in the order the level took
/// them, and the last notification always equals <see cref="Level"/>.</para>
/// </remarks>
public sealed class IntxLine : IDisposable
{
    private readonly Lock _gate = new();
    private EventFd? _intr;
    private EventFd? _resample;
    private bool _level;
    private bool _masked;
    private long _signals;

    /// <summary>
    /// Called with the new level whenever it changes, under the line's lock (see the ordering
    /// remark): a handler must be short and must not call back into the line.
    /// </summary>
    public event Action<bool>? LevelChanged;

    /// <summary>Whether QEMU has sent the line's eventfds (SET_IRQFD).</summary>
    public bool IsConnected { get { lock (_gate) return _intr != null; } }

    /// <summary>The device's view: whether it wants an interrupt.</summary>
    public bool Level { get { lock (_gate) return _level; } }

    /// <summary>Times <c>intr</c> was signalled.</summary>
    public long Signals => Interlocked.Read(ref _signals);

    /// <summary>The resample eventfd for the server's poll (-1 while unconnected); read on the server thread, which is also the only one that connects.</summary>
    internal int ResampleFd
    {
        get { lock (_gate) return _resample?.Fd ?? -1; }
    }

    /// <summary>Raises or lowers the line. Raising signals QEMU unless the command register masks INTx.</summary>
    public void SetLevel(bool asserted)
    {
        lock (_gate)
        {
            if (_level == asserted) return;
            _level = asserted;
            if (asserted && !_masked) SignalLocked();
            LevelChanged?.Invoke(asserted);
        }
    }

    /// <summary>
    /// One interrupt event without holding the line: for a device (like NVMe's polled CQs) that
    /// only needs the guest to look. With the resampling irqfd the GSI stays asserted until the
    /// guest's EOI, and the resample then finds the line low, so this behaves as an edge.
    /// </summary>
    public void Pulse()
    {
        lock (_gate)
        {
            if (!_masked) SignalLocked();
        }
    }

    /// <summary>Takes ownership of new eventfds (QEMU re-sends them on reconnect); closes the old ones.</summary>
    internal void Connect(EventFd intr, EventFd resample)
    {
        lock (_gate)
        {
            CloseLocked();
            _intr = intr;
            _resample = resample;
            if (_level && !_masked) SignalLocked();
        }
    }

    /// <summary>Follows the command register's Interrupt Disable bit.</summary>
    internal void SetMasked(bool masked)
    {
        lock (_gate)
        {
            bool unmasking = _masked && !masked;
            _masked = masked;
            if (unmasking && _level) SignalLocked();
        }
    }

    /// <summary>The resample eventfd fired: the guest EOI'd while the device may still be asserting.</summary>
    internal void OnResample()
    {
        lock (_gate)
        {
            _resample?.Drain();
            if (_level && !_masked) SignalLocked();
        }
    }

    /// <summary>Closes the eventfds; later raises signal nothing.</summary>
    public void Dispose()
    {
        lock (_gate) CloseLocked();
    }

    private void SignalLocked()
    {
        if (_intr == null) return;
        _intr.Signal();
        Interlocked.Increment(ref _signals);
    }

    private void CloseLocked()
    {
        _intr?.Dispose();
        _resample?.Dispose();
        _intr = _resample = null;
    }
}
