namespace ShadowIo.VfioUser.Protocol;

/// <summary>
/// The header's <c>cmd</c> (vfio-user.rst, "Commands"). 14 was VFIO_USER_DIRTY_PAGES, dropped with
/// migration v1; QEMU's client never sends GET_REGION_IO_FDS, DEVICE_FEATURE or the migration commands.
/// </summary>
internal enum VfioUserCommand : ushort
{
    /// <summary>Version and capability negotiation, the first message of a connection.</summary>
    Version = 1,
    /// <summary>Client memory the server may access (with an fd to mmap, or through DMA_READ/WRITE without).</summary>
    DmaMap = 2,
    /// <summary>Removes a DMA_MAP.</summary>
    DmaUnmap = 3,
    /// <summary>Device flags, number of regions and of IRQ indices.</summary>
    DeviceGetInfo = 4,
    /// <summary>One region's size, flags, mmap fd and capabilities (sparse mmap areas).</summary>
    DeviceGetRegionInfo = 5,
    /// <summary>A region's ioeventfds/ioregionfds (libvfio-user adds IOEVENTFD_SHADOW).</summary>
    DeviceGetRegionIoFds = 6,
    /// <summary>One IRQ index's flags and count.</summary>
    DeviceGetIrqInfo = 7,
    /// <summary>Interrupt eventfds, masks and triggers.</summary>
    DeviceSetIrqs = 8,
    /// <summary>A read of a region (config space, a BAR).</summary>
    RegionRead = 9,
    /// <summary>A write of a region (posted when the header has NO_REPLY).</summary>
    RegionWrite = 10,
    /// <summary>Server to client: read client memory that has no fd.</summary>
    DmaRead = 11,
    /// <summary>Server to client: write client memory that has no fd.</summary>
    DmaWrite = 12,
    /// <summary>Resets the device.</summary>
    DeviceReset = 13,
    /// <summary>Several small region writes in one message (if the server offers write_multiple).</summary>
    RegionWriteMulti = 15,
    /// <summary>VFIO_DEVICE_FEATURE (migration and DMA logging).</summary>
    DeviceFeature = 16,
    /// <summary>Migration data from the source server.</summary>
    MigDataRead = 17,
    /// <summary>Migration data to the destination server.</summary>
    MigDataWrite = 18,
}
