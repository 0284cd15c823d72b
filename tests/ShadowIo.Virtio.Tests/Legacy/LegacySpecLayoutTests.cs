using ShadowIo.Devices.Virtio.Legacy;
using Xunit;

namespace ShadowIo.Virtio.Tests.Legacy;

/// <summary>
/// The legacy virtio-pci header against virtio 1.2 section 4.1.4.10 ("Legacy Interfaces: A Note on
/// PCI Device Layout"): each field's offset, width and access typed in here from the spec's table,
/// the access checked through the generated dispatch.
/// </summary>
public sealed class LegacySpecLayoutTests
{
    // Section 4.1.4.10, the legacy header without MSI-X: (field, offset, width in bits, access).
    // Queue Notify (0x10, 16 bits, R+W) is the doorbells' and is checked below.
    public static TheoryData<string, ulong, int, string> SpecFields => new()
    {
        { "Device Features bits 0:31", 0x00, 32, "R" },
        { "Driver Features bits 0:31", 0x04, 32, "R+W" },
        { "Queue Address", 0x08, 32, "R+W" },
        { "queue_size", 0x0C, 16, "R" },
        { "queue_select", 0x0E, 16, "R+W" },
        { "Device Status", 0x12, 8, "R+W" },
        { "ISR Status", 0x13, 8, "R" },
    };

    [Theory]
    [MemberData(nameof(SpecFields))]
    public void Each_field_sits_where_the_spec_puts_it_with_its_width_and_access(string field, ulong offset, int bits, string access)
    {
        var map = new VirtioLegacyPciRegisters();
        var (declared, width, get, set) = Field(map, field);
        Assert.Equal((offset, bits / 8), (declared, width));
        ulong all = DoorbellSequenceMask(width);
        ulong deviceValue = 0x5A5A_5A5A & all & ~0x40UL;  // bit 6 clear: DEVICE_NEEDS_RESET is the device's
        ulong guestValue = 0xA5A5_A5A5 & all;             // bit 6 clear as well
        if (access == "R")
        {
            set(deviceValue);
            map.WriteMmio(offset, width, guestValue);
            Assert.Equal(deviceValue, get());
            Assert.Equal(deviceValue, map.ReadMmio(offset, width)); // ISR Status too: the read returns, then clears
        }
        else
        {
            map.WriteMmio(offset, width, guestValue);
            Assert.Equal(guestValue, get());
            Assert.Equal(guestValue, map.ReadMmio(offset, width));
        }
    }

    [Fact]
    public void The_header_is_20_bytes_and_the_configuration_follows_it_or_the_MSI_X_vectors()
    {
        Assert.Equal(0x14UL, VirtioLegacyPciRegisters.HeaderSize);
        Assert.Equal(0x14UL, VirtioLegacyPciRegisters.ConfigOffsetWithoutMsix);
        Assert.Equal(0x18UL, VirtioLegacyPciRegisters.ConfigOffsetWithMsix); // after config_msix_vector 0x14, queue_msix_vector 0x16
        Assert.Equal(12, VirtioLegacyPciRegisters.QueueAddressShift);       // Linux VIRTIO_PCI_QUEUE_ADDR_SHIFT: 4096-byte frames
    }

    [Fact]
    public void ISR_status_returns_both_bits_once_and_the_driver_cannot_set_them()
    {
        // Section 4.1.4.5 (and 4.1.4.10 "read clears"): bit 0 queue interrupt, bit 1 configuration change.
        Assert.Equal(1, VirtioLegacyPciRegisters.IsrStatusFields.QueueInterruptMask);
        Assert.Equal(2, VirtioLegacyPciRegisters.IsrStatusFields.DeviceConfigurationInterruptMask);
        var map = new VirtioLegacyPciRegisters();
        map.IsrStatusQueueInterrupt = true;
        map.IsrStatusDeviceConfigurationInterrupt = true;
        Assert.Equal(3UL, map.ReadMmio(0x13, 1));
        Assert.Equal(0UL, map.ReadMmio(0x13, 1));
        map.WriteMmio(0x13, 1, 0xFF);
        Assert.Equal(0UL, map.ReadMmio(0x13, 1));
    }

    [Fact]
    public void Device_status_bits_are_the_spec_values()
    {
        // Section 2.1: ACKNOWLEDGE 1, DRIVER 2, DRIVER_OK 4, FEATURES_OK 8, DEVICE_NEEDS_RESET 64, FAILED 128.
        Assert.Equal(new byte[] { 1, 2, 4, 8, 64, 128 }, new[]
        {
            VirtioLegacyPciRegisters.DeviceStatusFields.AcknowledgeMask, VirtioLegacyPciRegisters.DeviceStatusFields.DriverMask,
            VirtioLegacyPciRegisters.DeviceStatusFields.DriverOkMask, VirtioLegacyPciRegisters.DeviceStatusFields.FeaturesOkMask,
            VirtioLegacyPciRegisters.DeviceStatusFields.DeviceNeedsResetMask, VirtioLegacyPciRegisters.DeviceStatusFields.FailedMask,
        });
    }

    [Fact]
    public void Queue_notify_is_one_16_bit_notify_doorbell_per_queue_each_matching_its_index()
    {
        var table = VirtioLegacyPciRegisters.DoorbellTable;
        Assert.Equal(VirtioLegacyPciRegisters.QueueCount, table.Count);
        for (int queue = 0; queue < VirtioLegacyPciRegisters.QueueCount; queue++)
        {
            var row = table[queue];
            Assert.Equal((0x10UL, 2, DoorbellKind.Notify, true, (ulong)queue), (row.Offset, row.Width, row.Kind, row.HasDataMatch, row.DataMatch));
        }
        var map = new VirtioLegacyPciRegisters();
        var device = new RecordingDevice();
        map.Attach(device);
        map.WriteMmio(0x10, 2, 6);
        map.WriteMmio(0x10, 2, 0xFFFF);
        map.WriteMmio(0x12, 1, 0x03);
        Assert.Equal([6], device.Notified);
        Assert.Equal([(VirtioLegacyPciRegister.DeviceStatus, 3u)], device.Written);
    }

    internal sealed class RecordingDevice : IVirtioLegacyPciDevice
    {
        public List<(VirtioLegacyPciRegister Register, uint Value)> Written { get; } = [];
        public List<int> Notified { get; } = [];
        public void OnRegisterWritten(VirtioLegacyPciRegister register, uint value) => Written.Add((register, value));
        public void OnQueueNotified(int queue) => Notified.Add(queue);
    }

    private static ulong DoorbellSequenceMask(int width) => ShadowIo.Testing.DoorbellSequence.Mask(width);

    private static (ulong Offset, int Width, Func<ulong> Get, Action<ulong> Set) Field(VirtioLegacyPciRegisters m, string field) => field switch
    {
        "Device Features bits 0:31" => (VirtioLegacyPciRegisters.DeviceFeaturesOffset, sizeof(uint), () => m.DeviceFeatures, v => m.DeviceFeatures = (uint)v),
        "Driver Features bits 0:31" => (VirtioLegacyPciRegisters.DriverFeaturesOffset, sizeof(uint), () => m.DriverFeatures, v => m.DriverFeatures = (uint)v),
        "Queue Address" => (VirtioLegacyPciRegisters.QueueAddressOffset, sizeof(uint), () => m.QueueAddress, v => m.QueueAddress = (uint)v),
        "queue_size" => (VirtioLegacyPciRegisters.QueueSizeOffset, sizeof(ushort), () => m.QueueSize, v => m.QueueSize = (ushort)v),
        "queue_select" => (VirtioLegacyPciRegisters.QueueSelectOffset, sizeof(ushort), () => m.QueueSelect, v => m.QueueSelect = (ushort)v),
        "Device Status" => (VirtioLegacyPciRegisters.DeviceStatusOffset, sizeof(byte), () => m.DeviceStatus, v => m.DeviceStatus = (byte)v),
        "ISR Status" => (VirtioLegacyPciRegisters.IsrStatusOffset, sizeof(byte), () => m.IsrStatus, v => m.IsrStatus = (byte)v),
        _ => throw new ArgumentException(field),
    };
}
