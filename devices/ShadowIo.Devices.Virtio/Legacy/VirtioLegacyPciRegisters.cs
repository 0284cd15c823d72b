using ShadowIo;

namespace ShadowIo.Devices.Virtio.Legacy;

/// <summary>
/// The legacy virtio-pci header in I/O BAR 0 (virtio 1.2, section 4.1.4.10, "Legacy Interfaces: A
/// Note on PCI Device Layout"), as a ShadowIo register map for a user's own transitional or legacy
/// virtio-pci device: a map, not a device. It keeps the header's registers with the spec's widths
/// and access, clears ISR status on the read that returns it, and reports the driver's writes and
/// queue notifications to the attached <see cref="IVirtioLegacyPciDevice"/>.
/// </summary>
/// <remarks>
/// <para>The map is the 20-byte header without MSI-X. With MSI-X enabled the driver sees two more
/// 16-bit registers at 0x14 (config_msix_vector) and 0x16 (queue_msix_vector) and the device
/// configuration moves from 0x14 to 0x18: the layout changes at run time, which a static map
/// cannot say, so the device configuration is a block of its own the device places at
/// <see cref="ConfigOffsetWithoutMsix"/> or <see cref="ConfigOffsetWithMsix"/>.</para>
/// <para>Queue Notify (0x10) is <see cref="QueueCount"/> 16-bit notify doorbells on one address,
/// each matching its queue index, as QEMU wires the legacy notify port with one ioeventfd per
/// queue; eight for the reason <see cref="Mmio.VirtioMmioRegisters"/> gives. The spec lists the
/// register as R+W, but a read tells the driver nothing (Linux never reads it); as a doorbell it
/// reads 0.</para>
/// <para>It is a port I/O block (<see cref="AddressSpace.Port"/>): BAR 0 of a legacy device is an I/O
/// BAR, its doorbells bind with KVM_IOEVENTFD_FLAG_PIO, and a device adds it to a
/// <see cref="Binding.PortBus"/> at the BAR's port base, where the guest's <c>in</c> and <c>out</c>
/// (1, 2 or 4 bytes, KVM_EXIT_IO) reach the generated dispatch by the same rules as MMIO.</para>
/// </remarks>
[RegisterBlock("virtio-pci legacy header", HeaderSize, AddressSpace = AddressSpace.Port)]
[NotifyDoorbell("Queue0", QueueNotifyOffset, 2, DataMatch = 0)]
[NotifyDoorbell("Queue1", QueueNotifyOffset, 2, DataMatch = 1)]
[NotifyDoorbell("Queue2", QueueNotifyOffset, 2, DataMatch = 2)]
[NotifyDoorbell("Queue3", QueueNotifyOffset, 2, DataMatch = 3)]
[NotifyDoorbell("Queue4", QueueNotifyOffset, 2, DataMatch = 4)]
[NotifyDoorbell("Queue5", QueueNotifyOffset, 2, DataMatch = 5)]
[NotifyDoorbell("Queue6", QueueNotifyOffset, 2, DataMatch = 6)]
[NotifyDoorbell("Queue7", QueueNotifyOffset, 2, DataMatch = 7)]
public sealed partial class VirtioLegacyPciRegisters
{
    /// <summary>Bytes of the header without MSI-X: the device configuration follows it.</summary>
    public const ulong HeaderSize = 0x14;

    /// <summary>Where the device configuration starts while MSI-X is disabled.</summary>
    public const ulong ConfigOffsetWithoutMsix = 0x14;

    /// <summary>Where the device configuration starts while MSI-X is enabled (after config_msix_vector and queue_msix_vector).</summary>
    public const ulong ConfigOffsetWithMsix = 0x18;

    /// <summary>Offset of Queue Notify, the port every queue's notify doorbell shares.</summary>
    public const ulong QueueNotifyOffset = 0x10;

    /// <summary>Virtqueues with a Queue Notify doorbell in this map.</summary>
    public const int QueueCount = 8;

    /// <summary>Queue Address is a page frame number: the queue's guest-physical address shifted right by this (Linux's VIRTIO_PCI_QUEUE_ADDR_SHIFT).</summary>
    public const int QueueAddressShift = 12;

    /// <summary>Device Features bits 0:31: the offered feature bits (a legacy device has no more than 32); read-only.</summary>
    [Register(0x00, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint DeviceFeatures { get; set; }

    /// <summary>Driver Features bits 0:31: the feature bits the driver accepted.</summary>
    [Register(0x04, 4)]
    public partial uint DriverFeatures { get; set; }

    /// <summary>Queue Address: the selected queue's page frame number (address &gt;&gt; <see cref="QueueAddressShift"/>); 0 deactivates the queue.</summary>
    [Register(0x08, 4)]
    public partial uint QueueAddress { get; set; }

    /// <summary>queue_size: the selected queue's size, fixed by the device (0: no such queue); read-only.</summary>
    [Register(0x0C, 2, Access = RegisterAccess.ReadOnly)]
    public partial ushort QueueSize { get; set; }

    /// <summary>queue_select: the virtqueue Queue Address and queue_size refer to.</summary>
    [Register(0x0E, 2)]
    public partial ushort QueueSelect { get; set; }

    /// <summary>Device Status (section 2.1); writing 0 resets the device. DEVICE_NEEDS_RESET is the device's.</summary>
    [Register(0x12, 1)]
    [Field("ACKNOWLEDGE", 0, 1)]
    [Field("DRIVER", 1, 1)]
    [Field("DRIVER_OK", 2, 1)]
    [Field("FEATURES_OK", 3, 1)]
    [Field("DEVICE_NEEDS_RESET", 6, 1, Access = FieldAccess.ReadOnly)]
    [Field("FAILED", 7, 1)]
    public partial byte DeviceStatus { get; set; }

    /// <summary>ISR Status (section 4.1.4.5): bit 0 a queue was used, bit 1 the configuration changed; the read that returns it clears it.</summary>
    [Register(0x13, 1, Access = RegisterAccess.ReadOnly)]
    [Field("QueueInterrupt", 0, 1, Access = FieldAccess.ReadToClear)]
    [Field("DeviceConfigurationInterrupt", 1, 1, Access = FieldAccess.ReadToClear)]
    public partial byte IsrStatus { get; set; }

    private IVirtioLegacyPciDevice? _device;

    /// <summary>Connects the map to the device that acts on the driver's writes; until then writes are only stored.</summary>
    /// <param name="device">The device (its virtqueues, features and status handshake).</param>
    public void Attach(IVirtioLegacyPciDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
    }

    partial void OnDriverFeaturesWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioLegacyPciRegister.DriverFeatures, value);

    partial void OnQueueAddressWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioLegacyPciRegister.QueueAddress, value);

    partial void OnQueueSelectWritten(ushort previous, ushort value) => _device?.OnRegisterWritten(VirtioLegacyPciRegister.QueueSelect, value);

    partial void OnDeviceStatusWritten(byte previous, byte value) => _device?.OnRegisterWritten(VirtioLegacyPciRegister.DeviceStatus, value);

    // The driver writes the index of the queue it notifies (section 4.1.4.10). A write that reaches
    // dispatch arrives with the first row declared at 0x10, so the value names the queue; an index
    // past the map's queues is no notification of anything.
    partial void OnDoorbellWritten(int row, ulong value)
    {
        if (value < QueueCount) _device?.OnQueueNotified((int)value);
    }
}

/// <summary>The legacy header registers the driver writes and the device acts on.</summary>
public enum VirtioLegacyPciRegister
{
    /// <summary>Driver Features (0x04).</summary>
    DriverFeatures,

    /// <summary>Queue Address (0x08): the selected queue's page frame number, 0 to deactivate it.</summary>
    QueueAddress,

    /// <summary>queue_select (0x0E): the device loads the selected queue's queue_size and Queue Address.</summary>
    QueueSelect,

    /// <summary>Device Status (0x12): 0 resets the device (section 2.4).</summary>
    DeviceStatus,
}

/// <summary>
/// What a legacy virtio-pci device implements to be driven through <see cref="VirtioLegacyPciRegisters"/>.
/// Both methods run on the guest's thread after the write was stored, with no lock held by the map.
/// </summary>
public interface IVirtioLegacyPciDevice
{
    /// <summary>The driver wrote <paramref name="register"/>; <paramref name="value"/> is what it now holds.</summary>
    /// <param name="register">The register written.</param>
    /// <param name="value">The register's value after the write.</param>
    void OnRegisterWritten(VirtioLegacyPciRegister register, uint value);

    /// <summary>
    /// The driver notified virtqueue <paramref name="queue"/> through a write that reached the map's
    /// dispatch (no doorbell binding). With a binding, in every mode the write signals the row's
    /// eventfd instead and never gets here.
    /// </summary>
    /// <param name="queue">The queue index written to Queue Notify, below <see cref="VirtioLegacyPciRegisters.QueueCount"/>.</param>
    void OnQueueNotified(int queue);
}
