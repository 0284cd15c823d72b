namespace ShadowIo.Devices.Virtio;

/// <summary>What a <see cref="VirtioBlkDevice"/> offers the driver.</summary>
public sealed record VirtioBlkDeviceOptions
{
    /// <summary>Request virtqueues (1 to <see cref="VirtioPciLayout.MaxQueues"/>); above 1, VIRTIO_BLK_F_MQ is offered.</summary>
    public int Queues { get; init; } = 1;

    /// <summary>The largest queue size (a power of two, 2 to 32768): what <c>queue_size</c> reads after reset.</summary>
    public ushort MaxQueueSize { get; init; } = 256;

    /// <summary>The logical block size reported in <c>blk_size</c> (512 or 4096; requests still count 512-byte sectors).</summary>
    public uint BlockSize { get; init; } = 512;

    /// <summary>Offer VIRTIO_F_EVENT_IDX (the driver still decides whether to accept it).</summary>
    public bool OfferEventIdx { get; init; } = true;

    /// <summary>Offer VIRTIO_F_INDIRECT_DESC.</summary>
    public bool OfferIndirectDescriptors { get; init; } = true;

    /// <summary>MSI-X table entries: <c>config_msix_vector</c> and <c>queue_msix_vector</c> values at or above it read back as VIRTIO_MSI_NO_VECTOR (4.1.5.1.2).</summary>
    public int MsixVectors { get; init; } = VirtioPciLayout.MaxQueues + 1;

    /// <summary>What GET_ID answers (at most 20 ASCII bytes, NUL-padded).</summary>
    public string SerialNumber { get; init; } = "shadowio-virtio-blk";

    internal void Validate()
    {
        if (Queues is < 1 or > VirtioPciLayout.MaxQueues)
            throw new ArgumentOutOfRangeException(nameof(Queues), Queues, $"1 to {VirtioPciLayout.MaxQueues} request queues.");
        if (MaxQueueSize < 2 || MaxQueueSize > 32768 || (MaxQueueSize & (MaxQueueSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(MaxQueueSize), MaxQueueSize, "A split virtqueue's size is a power of two up to 32768 (2.7).");
        if (BlockSize is not (512 or 4096)) throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "512 or 4096.");
        if (MsixVectors is < 0 or > 2048) throw new ArgumentOutOfRangeException(nameof(MsixVectors), MsixVectors, "An MSI-X table has at most 2048 entries.");
        if (SerialNumber.Length > VirtioBlkConstants.IdBytes || SerialNumber.Any(c => c > 0x7E || c < 0x20))
            throw new ArgumentOutOfRangeException(nameof(SerialNumber), SerialNumber, $"At most {VirtioBlkConstants.IdBytes} printable ASCII characters.");
    }
}
