using System.Text;
using ShadowIo.Binding;
using ShadowIo.Hosting;

namespace ShadowIo.Devices.Virtio;

/// <summary>
/// A virtio-blk device (virtio 1.2, section 5.2) on the modern virtio-pci transport (4.1): one
/// memory BAR holding the common configuration, ISR, device configuration and notification
/// structures (<see cref="VirtioPciLayout"/>), split virtqueues, and a backing store.
/// </summary>
/// <remarks>
/// <para>How a host drives it:</para>
/// <list type="bullet">
/// <item>MMIO: <see cref="AddTo"/> maps the BAR on an <see cref="MmioBus"/>, the notify region with
/// its own doorbell binding (<see cref="DoorbellTable"/>); or serve BAR offsets to
/// <see cref="ReadMmio"/>/<see cref="WriteMmio"/> (a transport). Configuration writes run on the
/// calling (vCPU) thread. A notify that reaches dispatch (no binding took it) is processed there.</item>
/// <item>Bound notifications: pass each fired row to <see cref="ProcessDoorbell"/>, or let the
/// runtime's <see cref="DeviceRunner"/> do it, event-driven or polling with the hand-over:
/// while <see cref="IsPolling"/>, the device tells the driver not to notify (EVENT_IDX's
/// <c>avail_event</c> one behind, or VIRTQ_USED_F_NO_NOTIFY); cleared, it arms notifications and
/// re-reads the available index once, so no chain published in between is left waiting.</item>
/// <item>Interrupts: <see cref="InterruptRequested"/> with the queue's (or configuration's) MSI-X
/// vector, VIRTIO_MSI_NO_VECTOR for INTx (the ISR bit is set either way, as QEMU does).</item>
/// </list>
/// <para>Threading: one lock, taken once per entry point. Guest input is hostile: no entry point
/// throws for it; guest memory is touched only through <see cref="GuestMemory"/>. A ring the
/// device cannot use sets DEVICE_NEEDS_RESET (with a configuration-change interrupt once
/// DRIVER_OK is set, 2.1.2) and the device touches no queue until the driver resets it; a bad
/// request fails with VIRTIO_BLK_S_IOERR or VIRTIO_BLK_S_UNSUPP.</para>
/// </remarks>
public sealed partial class VirtioBlkDevice : IMmioDevice, IDoorbellDevice, ICommonConfigEvents
{
    private readonly Lock _gate = new();
    private readonly GuestMemory _memory;
    private readonly VirtioBlkDeviceOptions _options;
    private readonly BlkRequestExecutor _executor;
    private readonly VirtqueueConfig[] _queueConfigs;
    private readonly SplitVirtqueue?[] _queues;
    private readonly BufferSegment[] _segments;
    private volatile bool _isPolling;
    private long _internalErrors;
    private Exception? _lastInternalError;

    /// <summary>A device in reset over <paramref name="memory"/>, serving <paramref name="storage"/> (owned by the caller).</summary>
    /// <param name="memory">Guest RAM: the only memory the device reads or writes for the guest.</param>
    /// <param name="storage">The backing store; its whole 512-byte sectors are the disk.</param>
    /// <param name="options">What to offer; defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside what the device supports.</exception>
    /// <exception cref="ArgumentException"><paramref name="storage"/> holds no whole logical block.</exception>
    public VirtioBlkDevice(GuestMemory memory, IBlockStorage storage, VirtioBlkDeviceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(storage);
        _options = options ?? new VirtioBlkDeviceOptions();
        _options.Validate();
        if (storage.Length < _options.BlockSize) throw new ArgumentException($"Storage of {storage.Length} bytes holds no {_options.BlockSize}-byte block.", nameof(storage));
        _memory = memory;
        var id = new byte[VirtioBlkConstants.IdBytes];
        Encoding.ASCII.GetBytes(_options.SerialNumber, id);
        _executor = new BlkRequestExecutor(memory, storage, id);
        _queueConfigs = new VirtqueueConfig[_options.Queues];
        _queues = new SplitVirtqueue?[_options.Queues];
        _segments = new BufferSegment[_options.MaxQueueSize];
        OfferedFeatures = VirtioFeatures.Version1 | VirtioFeatures.BlkSegMax | VirtioFeatures.BlkBlockSize | VirtioFeatures.BlkFlush
            | (_options.OfferEventIdx ? VirtioFeatures.RingEventIdx : 0)
            | (_options.OfferIndirectDescriptors ? VirtioFeatures.RingIndirectDesc : 0)
            | (_options.Queues > 1 ? VirtioFeatures.BlkMultiQueue : 0);
        CommonConfig.Attach(this);
        Notify.Attach(OnNotifyDispatched);
        lock (_gate) ResetDevice();
        Counters.Resets = 0;
        InitializeDeviceConfig();
    }

    /// <summary>The common configuration structure (BAR offset <see cref="VirtioPciLayout.CommonConfigOffset"/>).</summary>
    public VirtioCommonConfigRegisters CommonConfig { get; } = new();

    /// <summary>The ISR status (BAR offset <see cref="VirtioPciLayout.IsrOffset"/>).</summary>
    public VirtioIsrRegisters Isr { get; } = new();

    /// <summary>The virtio-blk configuration (BAR offset <see cref="VirtioPciLayout.DeviceConfigOffset"/>).</summary>
    public VirtioBlkConfigRegisters DeviceConfig { get; } = new();

    /// <summary>The notification region (BAR offset <see cref="VirtioPciLayout.NotifyOffset"/>).</summary>
    public VirtioNotifyRegisters Notify { get; } = new();

    /// <summary>The notify doorbells a binding registers, at the notification region's base: row n is queue n.</summary>
    public static DoorbellTable DoorbellTable => VirtioNotifyRegisters.DoorbellTable;

    /// <summary>The options the device was created with.</summary>
    public VirtioBlkDeviceOptions Options => _options;

    /// <summary>The feature bits the device offers.</summary>
    public VirtioFeatures OfferedFeatures { get; }

    /// <summary>The features in force: what the driver accepted once FEATURES_OK stuck; none before.</summary>
    public VirtioFeatures NegotiatedFeatures { get; private set; }

    /// <summary>Disk size in 512-byte sectors (<c>capacity</c>).</summary>
    public long CapacitySectors => _executor.CapacitySectors;

    /// <summary>What the device has done.</summary>
    public VirtioBlkCounters Counters { get; } = new();

    /// <summary>Why the device last set DEVICE_NEEDS_RESET (<see cref="VirtqueueError.None"/> if never since the last reset).</summary>
    public VirtqueueError NeedsResetReason { get; private set; }

    /// <summary>The device status byte as the driver reads it.</summary>
    public VirtioDeviceStatus Status => (VirtioDeviceStatus)CommonConfig.DeviceStatus;

    /// <summary>Host callback: send an interrupt on this MSI-X vector (VIRTIO_MSI_NO_VECTOR: INTx). Runs under the device lock; must not call back in.</summary>
    public Action<ushort>? InterruptRequested { get; set; }

    /// <summary>
    /// Test and fuzzer hook: a used element was published (queue, queue size, head, bytes written),
    /// under the device lock. What the device itself wrote, which the guest's RAM cannot show once
    /// the guest scribbles over its own ring.
    /// </summary>
    internal Action<int, ushort, ushort, uint>? UsedElementPublished { get; set; }

    /// <inheritdoc/>
    public long InternalErrors => Interlocked.Read(ref _internalErrors);

    /// <inheritdoc/>
    public Exception? LastInternalError => Volatile.Read(ref _lastInternalError);

    /// <summary>
    /// Maps the BAR at <paramref name="barGpa"/> on <paramref name="bus"/>: the configuration
    /// structures as one range served by this device, the notification region as a second range
    /// with <paramref name="notifyBinding"/> (created at <c>barGpa + </c><see cref="VirtioPciLayout.NotifyOffset"/>
    /// over <see cref="DoorbellTable"/>), so its writes reach the binding first.
    /// </summary>
    public void AddTo(MmioBus bus, ulong barGpa, DoorbellBinding? notifyBinding = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.Add(barGpa, VirtioPciLayout.NotifyOffset, this);
        bus.Add(barGpa + VirtioPciLayout.NotifyOffset, VirtioPciLayout.NotifySize, Notify, notifyBinding);
    }

    /// <summary>A guest read at <paramref name="offset"/> in the BAR: routed to the structure there; holes read 0.</summary>
    public ulong ReadMmio(ulong offset, int size)
    {
        try
        {
            return offset switch
            {
                < VirtioPciLayout.IsrOffset => CommonConfig.ReadMmio(offset - VirtioPciLayout.CommonConfigOffset, size),
                < VirtioPciLayout.DeviceConfigOffset => Isr.ReadMmio(offset - VirtioPciLayout.IsrOffset, size),
                < VirtioPciLayout.NotifyOffset => DeviceConfig.ReadMmio(offset - VirtioPciLayout.DeviceConfigOffset, size),
                < VirtioPciLayout.BarSize => Notify.ReadMmio(offset - VirtioPciLayout.NotifyOffset, size),
                _ => 0,
            };
        }
        catch (Exception e)
        {
            RecordInternalError(e);
            return 0;
        }
    }

    /// <summary>A guest write at <paramref name="offset"/> in the BAR: routed to the structure there; holes ignore it.</summary>
    public void WriteMmio(ulong offset, int size, ulong value)
    {
        try
        {
            switch (offset)
            {
                case < VirtioPciLayout.IsrOffset: CommonConfig.WriteMmio(offset - VirtioPciLayout.CommonConfigOffset, size, value); break;
                case < VirtioPciLayout.DeviceConfigOffset: Isr.WriteMmio(offset - VirtioPciLayout.IsrOffset, size, value); break;
                case < VirtioPciLayout.NotifyOffset: DeviceConfig.WriteMmio(offset - VirtioPciLayout.DeviceConfigOffset, size, value); break;
                case < VirtioPciLayout.BarSize: Notify.WriteMmio(offset - VirtioPciLayout.NotifyOffset, size, value); break;
            }
        }
        catch (Exception e)
        {
            RecordInternalError(e);
        }
    }

    /// <summary>Row <paramref name="row"/> of <see cref="DoorbellTable"/> fired: the driver notified that queue.</summary>
    public void ProcessDoorbell(int row)
    {
        lock (_gate)
        {
            try
            {
                Counters.Notifications++;
                int queue = VirtioNotifyRegisters.QueueOf(row);
                if (queue >= 0 && queue < _queues.Length && _queues[queue] is { } q) ProcessQueue(q);
            }
            catch (Exception e)
            {
                RecordInternalError(e);
            }
        }
    }

    /// <summary>Looks at every enabled queue's available ring and serves what is there; returns the requests completed.</summary>
    public int Poll()
    {
        lock (_gate)
        {
            try
            {
                int done = 0;
                foreach (var q in _queues)
                    if (q is not null) done += ProcessQueue(q);
                return done;
            }
            catch (Exception e)
            {
                RecordInternalError(e);
                return 0;
            }
        }
    }

    /// <summary>
    /// Set while a thread polls <see cref="Poll"/>: the device suppresses the driver's notifications.
    /// Cleared: it arms them on every queue (the runner then polls once more before it sleeps).
    /// </summary>
    public bool IsPolling
    {
        get => _isPolling;
        set
        {
            lock (_gate)
            {
                _isPolling = value;
                try
                {
                    foreach (var q in _queues)
                        if (q is not null && IsLive) q.PublishNotificationSuppression(value);
                    Interlocked.MemoryBarrier(); // armed before the caller's last look at the rings
                }
                catch (Exception e)
                {
                    RecordInternalError(e);
                }
            }
        }
    }

    private void OnNotifyDispatched(int row) => ProcessDoorbell(row);

    /// <summary>A bug of the device caught at an entry point: counted, and the device stops using its queues.</summary>
    private void RecordInternalError(Exception e)
    {
        Interlocked.Increment(ref _internalErrors);
        Volatile.Write(ref _lastInternalError, e);
        lock (_gate) RaiseNeedsReset(VirtqueueError.InternalError);
    }

    private void InitializeDeviceConfig()
    {
        DeviceConfig.Capacity = (ulong)_executor.CapacitySectors;
        DeviceConfig.SegMax = (uint)(_options.MaxQueueSize - 2); // header and status take two descriptors
        DeviceConfig.BlkSize = _options.BlockSize;
        DeviceConfig.NumQueues = (ushort)_options.Queues;
    }
}
