using ShadowIo;

namespace ShadowIo.Devices.Virtio.Mmio;

/// <summary>
/// The virtio-mmio version 2 control registers (virtio 1.2, section 4.2.2, table "MMIO Device
/// Register Layout"), offsets 0x000 to 0x0FF, as a ShadowIo register map for a user's own
/// virtio-mmio device. It is a map, not a device: it keeps the registers, applies the spec's access
/// modes (R, W, RW), answers MagicValue and Version, clears InterruptStatus on InterruptACK and
/// reports every other guest write and every queue notification to the attached
/// <see cref="IVirtioMmioDevice"/>, which does the device's work (feature negotiation, the status
/// handshake, the virtqueues). ShadowIo's own virtio-blk device stays on virtio-pci.
/// </summary>
/// <remarks>
/// <para>The device-specific configuration (section 4.2.2, "Config", from 0x100) is a block of its
/// own, added to the bus at <see cref="ConfigOffset"/> past this one (for example
/// <see cref="VirtioBlkConfigRegisters"/>): its layout belongs to the device type, not to the
/// transport.</para>
/// <para>QueueNotify (0x050) is <see cref="QueueCount"/> notify doorbells on one address, each
/// matching its queue index (queue 0 matching 0): the driver writes the index of the queue it
/// notifies (section 4.2.3.3, without VIRTIO_F_NOTIFICATION_DATA), and QEMU and Firecracker register
/// one KVM ioeventfd per queue with that datamatch. The count is fixed by the map because the
/// doorbell table is static: eight covers the common devices (virtio-blk's multi-queue on small
/// guests, virtio-net with three queue pairs and its control queue, virtio-console's ports) at eight
/// ioeventfds per device; a device with fewer queues reports its own QueueNumMax of 0 for the rest
/// (section 4.2.3.2) and those rows never fire. A write of a value no row matches exits to
/// userspace and reaches the dispatch; a value below <see cref="QueueCount"/> is that queue's
/// notification, any other is ignored, as the spec has nothing for it.</para>
/// <para>The driver must use 32-bit aligned accesses (section 4.2.2.2); narrower ones inside a
/// register are merged by the generated dispatch, anything else reaches the undefined-access path and
/// reads 0.</para>
/// </remarks>
[RegisterBlock("virtio-mmio v2 control registers", ControlRegistersSize)]
[NotifyDoorbell("Queue0", QueueNotifyOffset, 4, DataMatch = 0)]
[NotifyDoorbell("Queue1", QueueNotifyOffset, 4, DataMatch = 1)]
[NotifyDoorbell("Queue2", QueueNotifyOffset, 4, DataMatch = 2)]
[NotifyDoorbell("Queue3", QueueNotifyOffset, 4, DataMatch = 3)]
[NotifyDoorbell("Queue4", QueueNotifyOffset, 4, DataMatch = 4)]
[NotifyDoorbell("Queue5", QueueNotifyOffset, 4, DataMatch = 5)]
[NotifyDoorbell("Queue6", QueueNotifyOffset, 4, DataMatch = 6)]
[NotifyDoorbell("Queue7", QueueNotifyOffset, 4, DataMatch = 7)]
public sealed partial class VirtioMmioRegisters
{
    /// <summary>Bytes of the control registers: Config starts right after them.</summary>
    public const ulong ControlRegistersSize = 0x100;

    /// <summary>Offset of the device-specific configuration in the virtio-mmio region (section 4.2.2, "Config").</summary>
    public const ulong ConfigOffset = 0x100;

    /// <summary>Offset of QueueNotify, the address every queue's notify doorbell shares.</summary>
    public const ulong QueueNotifyOffset = 0x050;

    /// <summary>Virtqueues with a QueueNotify doorbell in this map (see the remarks for why eight).</summary>
    public const int QueueCount = 8;

    /// <summary>MagicValue's fixed value: the bytes "virt" read as a little-endian 32-bit number.</summary>
    public const uint Magic = 0x74726976;

    /// <summary>Version of the transport this map is: 2, the non-legacy interface (0x1 is legacy, section 4.2.4).</summary>
    public const uint ModernVersion = 2;

    /// <summary>MagicValue: 0x74726976 ("virt"), read-only.</summary>
    [Register(0x000, 4, Access = RegisterAccess.ReadOnly, Reset = Magic)]
    public partial uint MagicValue { get; set; }

    /// <summary>Version: the device version number, 2 for this interface; read-only.</summary>
    [Register(0x004, 4, Access = RegisterAccess.ReadOnly, Reset = ModernVersion)]
    public partial uint Version { get; set; }

    /// <summary>DeviceID: the virtio subsystem device ID (section 5, e.g. 2 for a block device; 0 means no device); read-only.</summary>
    [Register(0x008, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint DeviceId { get; set; }

    /// <summary>VendorID: the virtio subsystem vendor ID; read-only.</summary>
    [Register(0x00C, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint VendorId { get; set; }

    /// <summary>DeviceFeatures: the 32 offered feature bits that <see cref="DeviceFeaturesSel"/> names; read-only, the device keeps it current.</summary>
    [Register(0x010, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint DeviceFeatures { get; set; }

    /// <summary>DeviceFeaturesSel: which 32 feature bits <see cref="DeviceFeatures"/> shows (0: bits 0–31, 1: bits 32–63); write-only.</summary>
    [Register(0x014, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint DeviceFeaturesSel { get; set; }

    /// <summary>DriverFeatures: the accepted feature bits of the half <see cref="DriverFeaturesSel"/> names; write-only.</summary>
    [Register(0x020, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint DriverFeatures { get; set; }

    /// <summary>DriverFeaturesSel: which 32 feature bits <see cref="DriverFeatures"/> writes; write-only.</summary>
    [Register(0x024, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint DriverFeaturesSel { get; set; }

    /// <summary>QueueSel: the virtqueue the Queue* registers below refer to (from 0); write-only.</summary>
    [Register(0x030, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint QueueSel { get; set; }

    /// <summary>QueueNumMax: the selected queue's largest size, 0 when the queue does not exist; read-only.</summary>
    [Register(0x034, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint QueueNumMax { get; set; }

    /// <summary>QueueNum: the size the driver chose for the selected queue; write-only.</summary>
    [Register(0x038, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint QueueNum { get; set; }

    /// <summary>QueueReady: 1 once the driver may use the selected queue; reads return the selected queue's state.</summary>
    [Register(0x044, 4)]
    public partial uint QueueReady { get; set; }

    /// <summary>InterruptStatus: why the device interrupted; read-only, cleared by <see cref="InterruptAck"/>.</summary>
    [Register(0x060, 4, Access = RegisterAccess.ReadOnly)]
    [Field("UsedBufferNotification", 0, 1, Access = FieldAccess.ReadOnly)]
    [Field("ConfigurationChangeNotification", 1, 1, Access = FieldAccess.ReadOnly)]
    public partial uint InterruptStatus { get; set; }

    /// <summary>InterruptACK: the driver writes the InterruptStatus bits it handled; write-only.</summary>
    [Register(0x064, 4, Access = RegisterAccess.WriteOnly)]
    [Field("UsedBufferNotification", 0, 1, Access = FieldAccess.WriteOnly)]
    [Field("ConfigurationChangeNotification", 1, 1, Access = FieldAccess.WriteOnly)]
    public partial uint InterruptAck { get; set; }

    /// <summary>
    /// Status: the device status (section 2.1), the driver setting bits as it initializes the device
    /// (section 3.1.1); writing 0 resets the device. DEVICE_NEEDS_RESET is the device's, read-only to the driver.
    /// </summary>
    [Register(0x070, 4)]
    [Field("ACKNOWLEDGE", 0, 1)]
    [Field("DRIVER", 1, 1)]
    [Field("DRIVER_OK", 2, 1)]
    [Field("FEATURES_OK", 3, 1)]
    [Field("DEVICE_NEEDS_RESET", 6, 1, Access = FieldAccess.ReadOnly)]
    [Field("FAILED", 7, 1)]
    public partial uint Status { get; set; }

    /// <summary>QueueDescLow: bits 0–31 of the selected queue's descriptor area address; write-only.</summary>
    [Register(0x080, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint QueueDescLow { get; set; }

    /// <summary>QueueDescHigh: bits 32–63 of the selected queue's descriptor area address; write-only.</summary>
    [Register(0x084, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint QueueDescHigh { get; set; }

    /// <summary>QueueDriverLow: bits 0–31 of the selected queue's driver area (available ring) address; write-only.</summary>
    [Register(0x090, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint QueueDriverLow { get; set; }

    /// <summary>QueueDriverHigh: bits 32–63 of the selected queue's driver area address; write-only.</summary>
    [Register(0x094, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint QueueDriverHigh { get; set; }

    /// <summary>QueueDeviceLow: bits 0–31 of the selected queue's device area (used ring) address; write-only.</summary>
    [Register(0x0A0, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint QueueDeviceLow { get; set; }

    /// <summary>QueueDeviceHigh: bits 32–63 of the selected queue's device area address; write-only.</summary>
    [Register(0x0A4, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint QueueDeviceHigh { get; set; }

    /// <summary>SHMSel: which shared memory region SHMLen* and SHMBase* describe; write-only.</summary>
    [Register(0x0AC, 4, Access = RegisterAccess.WriteOnly)]
    public partial uint ShmSel { get; set; }

    /// <summary>SHMLenLow: bits 0–31 of the selected shared memory region's length; all ones (a length of -1) for a region that does not exist; read-only.</summary>
    [Register(0x0B0, 4, Access = RegisterAccess.ReadOnly, Reset = NoSharedMemoryRegion)]
    public partial uint ShmLenLow { get; set; }

    /// <summary>SHMLenHigh: bits 32–63 of the selected shared memory region's length; all ones for a region that does not exist; read-only.</summary>
    [Register(0x0B4, 4, Access = RegisterAccess.ReadOnly, Reset = NoSharedMemoryRegion)]
    public partial uint ShmLenHigh { get; set; }

    /// <summary>SHMBaseLow: bits 0–31 of the selected shared memory region's guest-physical base; read-only.</summary>
    [Register(0x0B8, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint ShmBaseLow { get; set; }

    /// <summary>SHMBaseHigh: bits 32–63 of the selected shared memory region's guest-physical base; read-only.</summary>
    [Register(0x0BC, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint ShmBaseHigh { get; set; }

    /// <summary>QueueReset (with VIRTIO_F_RING_RESET): the driver writes 1 to reset the selected queue, and reads 1 until the device has.</summary>
    [Register(0x0C0, 4)]
    public partial uint QueueReset { get; set; }

    /// <summary>ConfigGeneration: changes whenever the device configuration may have changed (section 2.5.1); read-only.</summary>
    [Register(0x0FC, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint ConfigGeneration { get; set; }

    /// <summary>SHMLenLow and SHMLenHigh of a region that does not exist: together a length of -1 (section 4.2.2).</summary>
    public const uint NoSharedMemoryRegion = 0xFFFF_FFFF;
}
