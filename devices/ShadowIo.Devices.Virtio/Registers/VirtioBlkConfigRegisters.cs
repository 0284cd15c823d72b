using ShadowIo;

namespace ShadowIo.Devices.Virtio;

/// <summary>
/// The virtio-blk device configuration layout (virtio 1.2, section 5.2.4,
/// <c>struct virtio_blk_config</c>) as a ShadowIo register block, behind the virtio-pci device
/// configuration capability. Every field is the device's: read-only for the driver
/// (VIRTIO_BLK_F_CONFIG_WCE, which would make <see cref="Writeback"/> writable, is not offered).
/// </summary>
/// <remarks>
/// Linux reads the 64-bit <see cref="Capacity"/> as two 32-bit halves inside a
/// <c>config_generation</c> check (<c>virtio_cread64</c> → <c>vp_get</c>); narrower reads inside
/// a register are served by the generated dispatch. The discard, write-zeroes and secure-erase
/// fields read 0: those features are not offered.
/// </remarks>
[RegisterBlock("virtio-blk device configuration", VirtioPciLayout.DeviceConfigSize)]
public sealed partial class VirtioBlkConfigRegisters
{
    /// <summary>The bytes of <c>struct virtio_blk_config</c> through <c>secure_erase_sector_alignment</c>.</summary>
    public const int StructureLength = 0x48;

    /// <summary>capacity: the device's size in 512-byte sectors, whatever <see cref="BlkSize"/> is.</summary>
    [Register(0x00, 8, Access = RegisterAccess.ReadOnly)]
    public partial ulong Capacity { get; set; }

    /// <summary>size_max: the largest segment (with VIRTIO_BLK_F_SIZE_MAX).</summary>
    [Register(0x08, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint SizeMax { get; set; }

    /// <summary>seg_max: the most data segments in one request (with VIRTIO_BLK_F_SEG_MAX).</summary>
    [Register(0x0C, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint SegMax { get; set; }

    /// <summary>geometry.cylinders (with VIRTIO_BLK_F_GEOMETRY).</summary>
    [Register(0x10, 2, Access = RegisterAccess.ReadOnly)]
    public partial ushort GeometryCylinders { get; set; }

    /// <summary>geometry.heads.</summary>
    [Register(0x12, 1, Access = RegisterAccess.ReadOnly)]
    public partial byte GeometryHeads { get; set; }

    /// <summary>geometry.sectors.</summary>
    [Register(0x13, 1, Access = RegisterAccess.ReadOnly)]
    public partial byte GeometrySectors { get; set; }

    /// <summary>blk_size: the logical block size in bytes (with VIRTIO_BLK_F_BLK_SIZE).</summary>
    [Register(0x14, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint BlkSize { get; set; }

    /// <summary>topology.physical_block_exp: log2 of logical blocks per physical block (with VIRTIO_BLK_F_TOPOLOGY).</summary>
    [Register(0x18, 1, Access = RegisterAccess.ReadOnly)]
    public partial byte PhysicalBlockExp { get; set; }

    /// <summary>topology.alignment_offset: the first aligned logical block.</summary>
    [Register(0x19, 1, Access = RegisterAccess.ReadOnly)]
    public partial byte AlignmentOffset { get; set; }

    /// <summary>topology.min_io_size: the suggested minimum I/O size in logical blocks.</summary>
    [Register(0x1A, 2, Access = RegisterAccess.ReadOnly)]
    public partial ushort MinIoSize { get; set; }

    /// <summary>topology.opt_io_size: the optimal I/O size in logical blocks.</summary>
    [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint OptIoSize { get; set; }

    /// <summary>writeback: the cache mode (with VIRTIO_BLK_F_CONFIG_WCE, not offered: read-only).</summary>
    [Register(0x20, 1, Access = RegisterAccess.ReadOnly)]
    public partial byte Writeback { get; set; }

    /// <summary>num_queues: the number of request queues (with VIRTIO_BLK_F_MQ).</summary>
    [Register(0x22, 2, Access = RegisterAccess.ReadOnly)]
    public partial ushort NumQueues { get; set; }

    /// <summary>max_discard_sectors (with VIRTIO_BLK_F_DISCARD, not offered).</summary>
    [Register(0x24, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint MaxDiscardSectors { get; set; }

    /// <summary>max_discard_seg.</summary>
    [Register(0x28, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint MaxDiscardSeg { get; set; }

    /// <summary>discard_sector_alignment.</summary>
    [Register(0x2C, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint DiscardSectorAlignment { get; set; }

    /// <summary>max_write_zeroes_sectors (with VIRTIO_BLK_F_WRITE_ZEROES, not offered).</summary>
    [Register(0x30, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint MaxWriteZeroesSectors { get; set; }

    /// <summary>max_write_zeroes_seg.</summary>
    [Register(0x34, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint MaxWriteZeroesSeg { get; set; }

    /// <summary>write_zeroes_may_unmap.</summary>
    [Register(0x38, 1, Access = RegisterAccess.ReadOnly)]
    public partial byte WriteZeroesMayUnmap { get; set; }

    /// <summary>max_secure_erase_sectors (with VIRTIO_BLK_F_SECURE_ERASE, not offered).</summary>
    [Register(0x3C, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint MaxSecureEraseSectors { get; set; }

    /// <summary>max_secure_erase_seg.</summary>
    [Register(0x40, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint MaxSecureEraseSeg { get; set; }

    /// <summary>secure_erase_sector_alignment.</summary>
    [Register(0x44, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint SecureEraseSectorAlignment { get; set; }
}
