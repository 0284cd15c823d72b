namespace ShadowIo.Devices.Virtio;

/// <summary>
/// What the device has done. Updated under the device's lock; a read from another thread may be a
/// moment stale, and counters read one after another may disagree by a request in flight.
/// </summary>
public sealed class VirtioBlkCounters
{
    /// <summary>Notify doorbells the device handled (each fired row the host passed in, or a notify that reached MMIO dispatch).</summary>
    public long Notifications { get; internal set; }

    /// <summary>Requests completed: a used ring element published.</summary>
    public long RequestsCompleted { get; internal set; }

    /// <summary>Of those, completed with VIRTIO_BLK_S_IOERR.</summary>
    public long RequestsFailed { get; internal set; }

    /// <summary>Of those, completed with VIRTIO_BLK_S_UNSUPP.</summary>
    public long RequestsUnsupported { get; internal set; }

    /// <summary>Bytes read from the backing store into guest buffers (IN).</summary>
    public long BytesRead { get; internal set; }

    /// <summary>Bytes written to the backing store from guest buffers (OUT).</summary>
    public long BytesWritten { get; internal set; }

    /// <summary>Interrupts the device asked the host to send (queue and configuration-change).</summary>
    public long InterruptsRequested { get; internal set; }

    /// <summary>Batches of used elements after which the driver's suppression (used_event, NO_INTERRUPT) said no interrupt.</summary>
    public long InterruptsSuppressed { get; internal set; }

    /// <summary>Chains found by the re-read after arming notifications: the driver published them while the device said "don't notify".</summary>
    public long RearmRereadHits { get; internal set; }

    /// <summary>Times the device set DEVICE_NEEDS_RESET.</summary>
    public long NeedsResetRaised { get; internal set; }

    /// <summary>Device resets (a driver write of 0 to device_status).</summary>
    public long Resets { get; internal set; }
}
