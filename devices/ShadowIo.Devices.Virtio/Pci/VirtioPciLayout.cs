namespace ShadowIo.Devices.Virtio;

/// <summary>
/// Where the virtio-pci structures sit in the device's memory BAR, and the constants the transport
/// fixes. The layout is QEMU's for a modern virtio-pci device: four 4 KiB regions in one 16 KiB
/// BAR (common configuration, ISR, device configuration, notifications), each described to the
/// driver by a vendor capability (<see cref="VirtioPciCapabilities"/>).
/// </summary>
public static class VirtioPciLayout
{
    /// <summary>The BAR holding every structure (QEMU uses BAR 4, 64-bit prefetchable; any BAR works).</summary>
    public const byte Bar = 4;

    /// <summary>Size of the BAR: a power of two covering the four regions.</summary>
    public const ulong BarSize = 0x4000;

    /// <summary>Offset of the common configuration structure in the BAR.</summary>
    public const ulong CommonConfigOffset = 0x0000;

    /// <summary>Bytes reserved for the common configuration structure.</summary>
    public const ulong CommonConfigSize = 0x1000;

    /// <summary>Offset of the ISR status byte in the BAR.</summary>
    public const ulong IsrOffset = 0x1000;

    /// <summary>Bytes reserved for the ISR status.</summary>
    public const ulong IsrSize = 0x1000;

    /// <summary>Offset of the device-specific configuration (virtio-blk's) in the BAR.</summary>
    public const ulong DeviceConfigOffset = 0x2000;

    /// <summary>Bytes reserved for the device configuration.</summary>
    public const ulong DeviceConfigSize = 0x1000;

    /// <summary>Offset of the notification region in the BAR.</summary>
    public const ulong NotifyOffset = 0x3000;

    /// <summary>Bytes reserved for the notification region.</summary>
    public const ulong NotifySize = 0x1000;

    /// <summary>
    /// notify_off_multiplier: bytes between consecutive queues' doorbells. 4, as QEMU's
    /// (<c>QEMU_VIRTIO_PCI_QUEUE_MEM_MULT</c> is 0x1000 only with page-per-vq): each queue its own
    /// address, so each its own ioeventfd without a datamatch.
    /// </summary>
    public const int NotifyOffMultiplier = 4;

    /// <summary>A notify write is 16 bits: the queue index (Linux's <c>vp_notify</c>: <c>iowrite16</c>).</summary>
    public const int NotifyWidth = 2;

    /// <summary>The most virtqueues the device offers (virtio-blk request queues; VIRTIO_BLK_F_MQ above one).</summary>
    public const int MaxQueues = 4;

    /// <summary>VIRTIO_MSI_NO_VECTOR: no MSI-X vector assigned.</summary>
    public const ushort NoVector = 0xFFFF;

    /// <summary>PCI vendor ID of virtio devices (Red Hat, Inc.).</summary>
    public const ushort PciVendorId = 0x1AF4;

    /// <summary>PCI device ID of a modern virtio block device: 0x1040 + virtio device ID 2 (section 4.1.2.1).</summary>
    public const ushort PciDeviceId = 0x1040 + VirtioBlkConstants.DeviceId;

    /// <summary>PCI revision ID: at least 1 for a modern-only (non-transitional) device (section 4.1.2.1).</summary>
    public const byte PciRevisionId = 1;

    /// <summary>PCI class code: mass storage, SCSI (the class QEMU gives virtio-blk).</summary>
    public const uint PciClassCode = 0x01_00_00;
}
