using ShadowIo.Qemu.Native;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Interrupts;

/// <summary>
/// The function's INTx pin, carried by the two eventfds QEMU hands over with SET_IRQFD.
/// </summary>
/// <remarks>
/// QEMU's proxy wires them as a KVM resampling irqfd (proxy_intx_update): a signal on
/// <c>intr</c> asserts the GSI; at the guest's EOI KVM deasserts it and signals
/// <c>resample</c>, and a device whose line is still high must signal <c>intr</c> again —
/// that is level-triggered INTx over edge events. Under TCG the proxy never connects the
/// irqfd to anything, so signals go nowhere and the guest must poll (measured on 7.2).
/// </remarks>
public sealed class IntxLine : IDisposable
{
    private readonly object _gate = new();
    private int _intrFd = -1;
    private int _resampleFd = -1;
    private bool _level;
    private bool _masked;
    private long _signals;

    /// <summary>Called with the new Interrupt Status when the line's level changes.</summary>
    public event Action<bool>? LevelChanged;

    public bool IsConnected => Volatile.Read(ref _intrFd) >= 0;

    /// <summary>The device's view: whether it wants an interrupt.</summary>
    public bool Level { get { lock (_gate) return _level; } }

    /// <summary>Times <c>intr</c> was signalled.</summary>
    public long Signals => Interlocked.Read(ref _signals);

    internal int ResampleFd => Volatile.Read(ref _resampleFd);

    /// <summary>Raises or lowers the line. Raising signals QEMU unless the command register masks INTx.</summary>
    public void SetLevel(bool asserted)
    {
        bool changed;
        lock (_gate)
        {
            changed = _level != asserted;
            _level = asserted;
            if (asserted && changed && !_masked) SignalLocked();
        }
        if (changed) LevelChanged?.Invoke(asserted);
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
    internal void Connect(int intrFd, int resampleFd)
    {
        lock (_gate)
        {
            CloseLocked();
            _intrFd = intrFd;
            _resampleFd = resampleFd;
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
            if (_resampleFd >= 0) FileDescriptors.DrainEventFd(_resampleFd);
            if (_level && !_masked) SignalLocked();
        }
    }

    public void Dispose()
    {
        lock (_gate) CloseLocked();
    }

    private void SignalLocked()
    {
        if (_intrFd < 0) return;
        FileDescriptors.SignalEventFd(_intrFd);
        _signals++;
    }

    private void CloseLocked()
    {
        if (_intrFd >= 0) close(_intrFd);
        if (_resampleFd >= 0) close(_resampleFd);
        _intrFd = _resampleFd = -1;
    }
}
