using ShadowIo;

namespace ShadowIo.Devices.Virtio;

/// <summary>
/// The virtio-pci common configuration structure (virtio 1.2, section 4.1.4.3,
/// <c>struct virtio_pci_common_cfg</c>) as a ShadowIo register block: the whole-device registers
/// (features, MSI-X config vector, queue count, status, configuration generation) and the window
/// onto the virtqueue that <c>queue_select</c> names.
/// </summary>
/// <remarks>
/// <para>The <c>queue_*</c> registers show one virtqueue at a time. The device keeps each queue's
/// configuration itself and loads it into this window when the driver writes
/// <see cref="QueueSelect"/>; the window's registers are plain storage, written by the guest and
/// copied into the selected queue by the write hooks. <see cref="DeviceFeature"/> is likewise the
/// 32-bit half of the offered features that <see cref="DeviceFeatureSelect"/> names.</para>
/// <para>Linux writes the 64-bit queue addresses as two 32-bit halves (<c>vp_iowrite64_twopart</c>);
/// the generated dispatch merges narrower accesses inside a register.</para>
/// </remarks>
[RegisterBlock("virtio-pci common configuration", VirtioPciLayout.CommonConfigSize)]
public sealed partial class VirtioCommonConfigRegisters
{
    /// <summary>The bytes of <c>struct virtio_pci_common_cfg</c> in virtio 1.2 (through <c>queue_reset</c>).</summary>
    public const int StructureLength = 0x3C;

    /// <summary>device_feature_select: which 32 feature bits <see cref="DeviceFeature"/> shows (0: bits 0–31, 1: bits 32–63).</summary>
    [Register(0x00, 4)]
    public partial uint DeviceFeatureSelect { get; set; }

    /// <summary>device_feature: the offered feature bits of the selected half; read-only for the driver.</summary>
    [Register(0x04, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint DeviceFeature { get; set; }

    /// <summary>driver_feature_select: which 32 feature bits <see cref="DriverFeature"/> writes.</summary>
    [Register(0x08, 4)]
    public partial uint DriverFeatureSelect { get; set; }

    /// <summary>driver_feature: the accepted feature bits of the selected half.</summary>
    [Register(0x0C, 4)]
    public partial uint DriverFeature { get; set; }

    /// <summary>config_msix_vector: the MSI-X vector for configuration changes (0xFFFF: none).</summary>
    [Register(0x10, 2, Reset = VirtioPciLayout.NoVector)]
    public partial ushort ConfigMsixVector { get; set; }

    /// <summary>num_queues: the most virtqueues the device supports; read-only for the driver.</summary>
    [Register(0x12, 2, Access = RegisterAccess.ReadOnly)]
    public partial ushort NumQueues { get; set; }

    /// <summary>
    /// device_status (section 2.1): the driver sets bits as it goes through initialization (3.1.1);
    /// writing 0 resets the device. DEVICE_NEEDS_RESET is the device's, read-only to the driver.
    /// </summary>
    [Register(0x14, 1)]
    [Field("ACKNOWLEDGE", 0, 1)]
    [Field("DRIVER", 1, 1)]
    [Field("DRIVER_OK", 2, 1)]
    [Field("FEATURES_OK", 3, 1)]
    [Field("DEVICE_NEEDS_RESET", 6, 1, Access = FieldAccess.ReadOnly)]
    [Field("FAILED", 7, 1)]
    public partial byte DeviceStatus { get; set; }

    /// <summary>config_generation: changes whenever the device configuration may have changed (section 2.5.1).</summary>
    [Register(0x15, 1, Access = RegisterAccess.ReadOnly)]
    public partial byte ConfigGeneration { get; set; }

    /// <summary>queue_select: the virtqueue the <c>queue_*</c> registers below refer to.</summary>
    [Register(0x16, 2)]
    public partial ushort QueueSelect { get; set; }

    /// <summary>queue_size: the selected queue's size; the device's maximum on reset, 0 for a queue that does not exist.</summary>
    [Register(0x18, 2)]
    public partial ushort QueueSize { get; set; }

    /// <summary>queue_msix_vector: the selected queue's MSI-X vector (0xFFFF: none).</summary>
    [Register(0x1A, 2, Reset = VirtioPciLayout.NoVector)]
    public partial ushort QueueMsixVector { get; set; }

    /// <summary>queue_enable: 1 once the driver has enabled the selected queue.</summary>
    [Register(0x1C, 2)]
    public partial ushort QueueEnable { get; set; }

    /// <summary>queue_notify_off: the selected queue's notify offset, in units of the notify_off_multiplier; read-only.</summary>
    [Register(0x1E, 2, Access = RegisterAccess.ReadOnly)]
    public partial ushort QueueNotifyOff { get; set; }

    /// <summary>queue_desc: guest-physical address of the selected queue's descriptor table (16-byte aligned).</summary>
    [Register(0x20, 8)]
    public partial ulong QueueDesc { get; set; }

    /// <summary>queue_driver: guest-physical address of the driver area, the available ring (2-byte aligned).</summary>
    [Register(0x28, 8)]
    public partial ulong QueueDriver { get; set; }

    /// <summary>queue_device: guest-physical address of the device area, the used ring (4-byte aligned).</summary>
    [Register(0x30, 8)]
    public partial ulong QueueDevice { get; set; }

    /// <summary>queue_notify_data (virtio 1.2, with VIRTIO_F_NOTIF_CONFIG_DATA): not offered, reads 0.</summary>
    [Register(0x38, 2, Access = RegisterAccess.ReadOnly)]
    public partial ushort QueueNotifyData { get; set; }

    /// <summary>queue_reset (virtio 1.2, with VIRTIO_F_RING_RESET): not offered, reads 0 and ignores writes.</summary>
    [Register(0x3A, 2, Access = RegisterAccess.ReadOnly)]
    public partial ushort QueueReset { get; set; }
}
