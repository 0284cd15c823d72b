namespace ShadowIo.VfioUser.Protocol;

/// <summary>The <c>migration</c> capability: dirty-page granularity and the largest bitmap.</summary>
/// <param name="PageSize">pgsize.</param>
/// <param name="MaxBitmapSize">max_bitmap_size.</param>
internal readonly record struct MigrationCapability(ulong PageSize, ulong MaxBitmapSize);

/// <summary>
/// The <c>capabilities</c> object of VERSION (vfio-user.rst, "Version"). A member the peer did not
/// send is null (its default applies: <see cref="ProtocolLimits"/>); unknown members are ignored, so
/// a newer peer's additions do not fail the handshake.
/// </summary>
internal readonly record struct VersionCapabilities
{
    /// <summary>max_msg_fds: the most fds the sender accepts in one message.</summary>
    public uint? MaxMessageFds { get; init; }

    /// <summary>max_data_xfer_size: the largest data of one region or DMA message the sender accepts.</summary>
    public ulong? MaxDataTransferSize { get; init; }

    /// <summary>max_dma_maps: the most DMA_MAPs valid at once.</summary>
    public ulong? MaxDmaMaps { get; init; }

    /// <summary>pgsizes: a bitmap of supported page sizes (4096 = bit 12).</summary>
    public ulong? PageSizes { get; init; }

    /// <summary>write_multiple: REGION_WRITE_MULTI is accepted.</summary>
    public bool? WriteMultiple { get; init; }

    /// <summary>twin_socket.supported: server-to-client messages on a second socket.</summary>
    public bool? TwinSocket { get; init; }

    /// <summary>migration: the sender supports migration with these parameters.</summary>
    public MigrationCapability? Migration { get; init; }
}
