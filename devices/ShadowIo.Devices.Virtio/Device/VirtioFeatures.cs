namespace ShadowIo.Devices.Virtio;

/// <summary>
/// Feature bits (virtio 1.2, section 6 "Reserved Feature Bits", and 5.2.3 for the block device),
/// as masks of the 64-bit feature word.
/// </summary>
[Flags]
public enum VirtioFeatures : ulong
{
    /// <summary>No features.</summary>
    None = 0,

    /// <summary>VIRTIO_BLK_F_SIZE_MAX (1): <c>size_max</c> is valid.</summary>
    BlkSizeMax = 1UL << 1,

    /// <summary>VIRTIO_BLK_F_SEG_MAX (2): <c>seg_max</c> is valid.</summary>
    BlkSegMax = 1UL << 2,

    /// <summary>VIRTIO_BLK_F_GEOMETRY (4).</summary>
    BlkGeometry = 1UL << 4,

    /// <summary>VIRTIO_BLK_F_RO (5): the device is read-only.</summary>
    BlkReadOnly = 1UL << 5,

    /// <summary>VIRTIO_BLK_F_BLK_SIZE (6): <c>blk_size</c> is valid.</summary>
    BlkBlockSize = 1UL << 6,

    /// <summary>VIRTIO_BLK_F_FLUSH (9): the device takes VIRTIO_BLK_T_FLUSH.</summary>
    BlkFlush = 1UL << 9,

    /// <summary>VIRTIO_BLK_F_TOPOLOGY (10).</summary>
    BlkTopology = 1UL << 10,

    /// <summary>VIRTIO_BLK_F_CONFIG_WCE (11): <c>writeback</c> is writable.</summary>
    BlkConfigWce = 1UL << 11,

    /// <summary>VIRTIO_BLK_F_MQ (12): <c>num_queues</c> request queues.</summary>
    BlkMultiQueue = 1UL << 12,

    /// <summary>VIRTIO_F_INDIRECT_DESC (28): descriptors may point at indirect tables (2.7.5.3).</summary>
    RingIndirectDesc = 1UL << 28,

    /// <summary>VIRTIO_F_EVENT_IDX (29): <c>used_event</c> and <c>avail_event</c> suppress notifications (2.7.7, 2.7.10).</summary>
    RingEventIdx = 1UL << 29,

    /// <summary>VIRTIO_F_VERSION_1 (32): a virtio 1.x device; a modern-only device requires it.</summary>
    Version1 = 1UL << 32,

    /// <summary>VIRTIO_F_ACCESS_PLATFORM (33).</summary>
    AccessPlatform = 1UL << 33,

    /// <summary>VIRTIO_F_RING_PACKED (34): packed virtqueues (not offered).</summary>
    RingPacked = 1UL << 34,

    /// <summary>VIRTIO_F_IN_ORDER (35).</summary>
    InOrder = 1UL << 35,

    /// <summary>VIRTIO_F_NOTIFICATION_DATA (38): notify writes carry the next available index (not offered).</summary>
    NotificationData = 1UL << 38,

    /// <summary>VIRTIO_F_RING_RESET (40): per-queue reset through <c>queue_reset</c> (not offered).</summary>
    RingReset = 1UL << 40,
}

/// <summary>device_status bits (virtio 1.2, section 2.1).</summary>
[Flags]
public enum VirtioDeviceStatus : byte
{
    /// <summary>0: reset (written by the driver), or not yet initialized.</summary>
    Reset = 0,
    /// <summary>ACKNOWLEDGE (1): the guest noticed the device.</summary>
    Acknowledge = 1,
    /// <summary>DRIVER (2): the guest has a driver for it.</summary>
    Driver = 2,
    /// <summary>DRIVER_OK (4): the driver is set up and ready to drive the device.</summary>
    DriverOk = 4,
    /// <summary>FEATURES_OK (8): the driver accepted features; the device clears it if it cannot support them.</summary>
    FeaturesOk = 8,
    /// <summary>DEVICE_NEEDS_RESET (64): the device hit an error it cannot recover from without a reset.</summary>
    DeviceNeedsReset = 64,
    /// <summary>FAILED (128): the driver gave up on the device.</summary>
    Failed = 128,
}
