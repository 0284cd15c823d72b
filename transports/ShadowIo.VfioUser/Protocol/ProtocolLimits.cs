namespace ShadowIo.VfioUser.Protocol;

/// <summary>
/// The sizes a peer's messages are held to: what this side offered in VERSION, or the protocol's
/// defaults before it. Every count and length a decoder reads is checked against these.
/// </summary>
/// <param name="MaxDataTransferSize">max_data_xfer_size: the largest REGION_READ/WRITE or DMA_READ/WRITE data.</param>
/// <param name="MaxMessageFds">max_msg_fds: the most fds one message may carry.</param>
internal readonly record struct ProtocolLimits(uint MaxDataTransferSize, int MaxMessageFds)
{
    /// <summary>The spec's default max_data_xfer_size (1 MiB); QEMU proposes the same.</summary>
    public const uint DefaultMaxDataTransferSize = 1 << 20;

    /// <summary>QEMU refuses a max_data_xfer_size above 64 MiB (VFIO_USER_MAX_MAX_XFER).</summary>
    public const uint LargestMaxDataTransferSize = 64 << 20;

    /// <summary>The max_msg_fds a peer that names none gets (QEMU's VFIO_USER_DEF_MAX_FDS).</summary>
    public const int DefaultMaxMessageFds = 8;

    /// <summary>QEMU refuses a max_msg_fds above 16 (VFIO_USER_MAX_MAX_FDS).</summary>
    public const int LargestMaxMessageFds = 16;

    /// <summary>Room beside the data for the largest fixed part of a data-carrying message (REGION_WRITE and DMA messages: 16 bytes).</summary>
    private const uint FixedPartRoom = 64;

    /// <summary>The defaults before negotiation.</summary>
    public static ProtocolLimits Default { get; } = new(DefaultMaxDataTransferSize, DefaultMaxMessageFds);

    /// <summary>The largest msg_size accepted: header, fixed part, data. (VERSION's JSON and WRITE_MULTI's 200 entries are far smaller.)</summary>
    public uint MaxMessageSize => MessageHeader.Size + FixedPartRoom + MaxDataTransferSize;
}
