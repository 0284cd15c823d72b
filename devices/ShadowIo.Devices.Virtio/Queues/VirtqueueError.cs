namespace ShadowIo.Devices.Virtio;

/// <summary>
/// What was wrong with a virtqueue the driver handed over. Each is a ring the device cannot use
/// safely; the device answers by setting DEVICE_NEEDS_RESET (virtio 1.2, section 2.1.2) and
/// touching the queue no further until the driver resets it, as QEMU's <c>virtio_error</c> does.
/// Errors in a request's contents (sectors, buffer addresses, sizes) fail that request instead.
/// </summary>
public enum VirtqueueError
{
    /// <summary>No error.</summary>
    None,

    /// <summary>The available ring's <c>idx</c> ran more than the queue size ahead of what the device consumed.</summary>
    AvailIndexTooFar,

    /// <summary>An available ring entry names a descriptor past the end of the table.</summary>
    HeadOutOfRange,

    /// <summary>A descriptor's <c>next</c> (or an indirect table's chain) names a descriptor past the end of its table.</summary>
    NextOutOfRange,

    /// <summary>The chain has more descriptors than the queue has entries: it loops, or breaks 2.7.5.3.1's limit.</summary>
    ChainLongerThanQueue,

    /// <summary>A device-readable descriptor follows a device-writable one (2.7.4.2: writable ones come last).</summary>
    ReadableAfterWritable,

    /// <summary>VIRTQ_DESC_F_INDIRECT without VIRTIO_F_INDIRECT_DESC negotiated.</summary>
    IndirectNotNegotiated,

    /// <summary>An indirect table inside an indirect table (2.7.5.3.1: one table per descriptor).</summary>
    NestedIndirect,

    /// <summary>A descriptor with both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT (2.7.5.3.1).</summary>
    IndirectWithNext,

    /// <summary>An indirect table whose length is zero or not a multiple of 16 bytes.</summary>
    IndirectBadLength,

    /// <summary>A ring or descriptor table (direct or indirect) is not wholly in guest RAM.</summary>
    RingOutsideMemory,

    /// <summary>A request carries no device-writable byte for its status, so it cannot be answered.</summary>
    NoStatusByte,

    /// <summary>The queue's configuration at enable (size, alignment, ring addresses) cannot work.</summary>
    InvalidQueueConfiguration,

    /// <summary>DRIVER_OK set without FEATURES_OK, or another step of 3.1.1 out of order.</summary>
    StatusOutOfOrder,

    /// <summary>The device caught one of its own bugs (counted in its internal errors).</summary>
    InternalError,
}
