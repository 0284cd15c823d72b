using ShadowIo.Devices.Virtio.Mmio;
using Xunit;

namespace ShadowIo.Virtio.Tests.Mmio;

/// <summary>
/// The virtio-mmio v2 map against virtio 1.2 section 4.2.2, table "MMIO Device Register Layout":
/// every register's offset and access (R, W, RW) typed in here from the spec, never derived from the
/// map, and each access mode checked through the generated dispatch (what a guest read and a guest
/// write do), not only by the declared offsets.
/// </summary>
public sealed class MmioSpecLayoutTests
{
    // Section 4.2.2, table 4.1: (name, offset, access). Every control register is 32 bits wide
    // (section 4.2.2.2: the driver MUST use 32-bit wide and aligned accesses). QueueNotify (0x050,
    // W) is the doorbells' and is checked by its own test below.
    public static TheoryData<string, ulong, string> SpecRegisters => new()
    {
        { "MagicValue", 0x000, "R" },
        { "Version", 0x004, "R" },
        { "DeviceID", 0x008, "R" },
        { "VendorID", 0x00C, "R" },
        { "DeviceFeatures", 0x010, "R" },
        { "DeviceFeaturesSel", 0x014, "W" },
        { "DriverFeatures", 0x020, "W" },
        { "DriverFeaturesSel", 0x024, "W" },
        { "QueueSel", 0x030, "W" },
        { "QueueNumMax", 0x034, "R" },
        { "QueueNum", 0x038, "W" },
        { "QueueReady", 0x044, "RW" },
        { "InterruptStatus", 0x060, "R" },
        { "InterruptACK", 0x064, "W" },
        { "Status", 0x070, "RW" },
        { "QueueDescLow", 0x080, "W" },
        { "QueueDescHigh", 0x084, "W" },
        { "QueueDriverLow", 0x090, "W" },
        { "QueueDriverHigh", 0x094, "W" },
        { "QueueDeviceLow", 0x0A0, "W" },
        { "QueueDeviceHigh", 0x0A4, "W" },
        { "SHMSel", 0x0AC, "W" },
        { "SHMLenLow", 0x0B0, "R" },
        { "SHMLenHigh", 0x0B4, "R" },
        { "SHMBaseLow", 0x0B8, "R" },
        { "SHMBaseHigh", 0x0BC, "R" },
        { "QueueReset", 0x0C0, "RW" },
        { "ConfigGeneration", 0x0FC, "R" },
    };

    private const uint DeviceValue = 0x5A5A_5A5A;
    private const uint GuestValue = 0xA5A5_A5A5; // bit 6 clear: Status's DEVICE_NEEDS_RESET is read-only to the driver

    [Theory]
    [MemberData(nameof(SpecRegisters))]
    public void Each_register_sits_where_the_spec_puts_it_with_the_spec_access(string name, ulong offset, string access)
    {
        var map = new VirtioMmioRegisters();
        var (declared, storage) = Register(map, name);
        Assert.Equal(offset, declared);

        switch (access)
        {
            case "R": // the device sets it, the driver reads it, a driver write changes nothing
                storage.Set(DeviceValue);
                map.WriteMmio(offset, 4, GuestValue);
                Assert.Equal(DeviceValue, map.ReadMmio(offset, 4));
                Assert.Equal(DeviceValue, storage.Get());
                break;
            case "W": // the driver's write reaches the device, a driver read returns 0
                map.WriteMmio(offset, 4, GuestValue);
                Assert.Equal(GuestValue, storage.Get());
                Assert.Equal(0UL, map.ReadMmio(offset, 4));
                break;
            case "RW":
                map.WriteMmio(offset, 4, GuestValue);
                Assert.Equal(GuestValue, storage.Get());
                Assert.Equal(GuestValue, map.ReadMmio(offset, 4));
                break;
            default:
                throw new ArgumentException(access);
        }
    }

    [Fact]
    public void Offsets_the_spec_leaves_reserved_are_no_register_of_the_map()
    {
        var taken = new HashSet<ulong>(SpecRegisters.Select(r => r.Data.Item2)) { VirtioMmioRegisters.QueueNotifyOffset };
        var map = new VirtioMmioRegisters();
        for (ulong offset = 0; offset < VirtioMmioRegisters.ControlRegistersSize; offset += 4)
        {
            if (taken.Contains(offset)) continue;
            map.WriteMmio(offset, 4, GuestValue);
            Assert.Equal(0UL, map.ReadMmio(offset, 4));
        }
        Assert.Equal(0x100UL, VirtioMmioRegisters.ControlRegistersSize);
        Assert.Equal(0x100UL, VirtioMmioRegisters.ConfigOffset); // section 4.2.2: "Config" from 0x100
    }

    [Fact]
    public void Generated_dispatch_answers_MagicValue_and_Version_before_and_after_a_reset()
    {
        // Section 4.2.2: MagicValue 0x74726976 (a little-endian "virt"), Version 0x2 (0x1 is legacy, 4.2.4).
        var map = new VirtioMmioRegisters();
        Assert.Equal(0x74726976UL, map.ReadMmio(0x000, 4));
        Assert.Equal(2UL, map.ReadMmio(0x004, 4));
        Assert.Equal("virt", string.Concat(Enumerable.Range(0, 4).Select(i => (char)map.ReadMmio((ulong)i, 1))));
        map.MagicValue = 0;
        map.Version = 1;
        map.ResetRegisters();
        Assert.Equal(0x74726976UL, map.ReadMmio(0x000, 4));
        Assert.Equal(2UL, map.ReadMmio(0x004, 4));
        // Section 4.2.2: a length of -1 for a shared memory region that does not exist.
        Assert.Equal(0xFFFF_FFFFUL, map.ReadMmio(0x0B0, 4));
        Assert.Equal(0xFFFF_FFFFUL, map.ReadMmio(0x0B4, 4));
    }

    [Fact]
    public void InterruptStatus_bits_are_the_spec_values_and_InterruptACK_clears_what_it_names()
    {
        // Section 4.2.2, InterruptStatus: bit 0 Used Buffer Notification, bit 1 Configuration Change Notification.
        Assert.Equal(1u, VirtioMmioRegisters.InterruptStatusFields.UsedBufferNotificationMask);
        Assert.Equal(2u, VirtioMmioRegisters.InterruptStatusFields.ConfigurationChangeNotificationMask);
        Assert.Equal(1u, VirtioMmioRegisters.InterruptAckFields.UsedBufferNotificationMask);
        Assert.Equal(2u, VirtioMmioRegisters.InterruptAckFields.ConfigurationChangeNotificationMask);

        var map = new VirtioMmioRegisters();
        map.InterruptStatusUsedBufferNotification = true;
        map.InterruptStatusConfigurationChangeNotification = true;
        Assert.Equal(3UL, map.ReadMmio(0x060, 4));
        map.WriteMmio(0x064, 4, 1);
        Assert.Equal(2UL, map.ReadMmio(0x060, 4));
        map.WriteMmio(0x064, 4, 0xFFFF_FFFC); // no event bit: nothing acknowledged
        Assert.Equal(2UL, map.ReadMmio(0x060, 4));
        map.WriteMmio(0x064, 4, 2);
        Assert.Equal(0UL, map.ReadMmio(0x060, 4));
    }

    [Fact]
    public void Status_bits_are_the_spec_values_and_DEVICE_NEEDS_RESET_is_the_devices()
    {
        // Section 2.1: ACKNOWLEDGE 1, DRIVER 2, DRIVER_OK 4, FEATURES_OK 8, DEVICE_NEEDS_RESET 64, FAILED 128.
        Assert.Equal(new uint[] { 1, 2, 4, 8, 64, 128 }, new[]
        {
            VirtioMmioRegisters.StatusFields.AcknowledgeMask, VirtioMmioRegisters.StatusFields.DriverMask,
            VirtioMmioRegisters.StatusFields.DriverOkMask, VirtioMmioRegisters.StatusFields.FeaturesOkMask,
            VirtioMmioRegisters.StatusFields.DeviceNeedsResetMask, VirtioMmioRegisters.StatusFields.FailedMask,
        });
        var map = new VirtioMmioRegisters();
        map.WriteMmio(0x070, 4, 0x40);
        Assert.Equal(0UL, map.ReadMmio(0x070, 4));
        map.StatusDeviceNeedsReset = true;
        map.WriteMmio(0x070, 4, 0);
        Assert.Equal(0x40UL, map.ReadMmio(0x070, 4));
    }

    [Fact]
    public void QueueNotify_is_one_32_bit_notify_doorbell_per_queue_each_matching_its_index()
    {
        // Section 4.2.2, QueueNotify (0x050, W): the driver writes the index of the queue it notifies
        // (4.2.3.3); one KVM ioeventfd per queue with datamatch = index, queue 0 matching 0.
        var table = VirtioMmioRegisters.DoorbellTable;
        Assert.Equal(VirtioMmioRegisters.QueueCount, table.Count);
        for (int queue = 0; queue < VirtioMmioRegisters.QueueCount; queue++)
        {
            var row = table[queue];
            Assert.Equal((0x050UL, 4, DoorbellKind.Notify, true, (ulong)queue, -1), (row.Offset, row.Width, row.Kind, row.HasDataMatch, row.DataMatch, row.ShadowOffset));
        }
        var map = new VirtioMmioRegisters();
        Assert.Equal(0UL, map.ReadMmio(0x050, 4)); // write-only: a doorbell read returns 0
    }

    [Fact]
    public void Writes_reach_the_attached_device_and_only_a_real_queue_index_is_a_notification()
    {
        var map = new VirtioMmioRegisters();
        var device = new RecordingDevice();
        map.Attach(device);
        map.WriteMmio(0x030, 4, 3);          // QueueSel
        map.WriteMmio(0x070, 4, 0x0F);       // Status
        map.WriteMmio(0x050, 4, 5);          // QueueNotify, queue 5
        map.WriteMmio(0x050, 4, VirtioMmioRegisters.QueueCount); // no such queue in the map
        map.WriteMmio(0x050, 4, 0xFFFF_FFFF);
        map.WriteMmio(0x000, 4, 1);          // MagicValue: read-only, no hook for the device
        Assert.Equal([(VirtioMmioRegister.QueueSel, 3u), (VirtioMmioRegister.Status, 0x0Fu)], device.Written);
        Assert.Equal([5], device.Notified);
    }

    internal sealed class RecordingDevice : IVirtioMmioDevice
    {
        public List<(VirtioMmioRegister Register, uint Value)> Written { get; } = [];
        public List<int> Notified { get; } = [];
        public void OnRegisterWritten(VirtioMmioRegister register, uint value) => Written.Add((register, value));
        public void OnQueueNotified(int queue) => Notified.Add(queue);
    }

    private sealed record Storage(Func<uint> Get, Action<uint> Set);

    // The spec's names to the map's members: one line per register, so a rename or a moved offset fails here.
    private static (ulong Offset, Storage Storage) Register(VirtioMmioRegisters m, string name) => name switch
    {
        "MagicValue" => (VirtioMmioRegisters.MagicValueOffset, new(() => m.MagicValue, v => m.MagicValue = v)),
        "Version" => (VirtioMmioRegisters.VersionOffset, new(() => m.Version, v => m.Version = v)),
        "DeviceID" => (VirtioMmioRegisters.DeviceIdOffset, new(() => m.DeviceId, v => m.DeviceId = v)),
        "VendorID" => (VirtioMmioRegisters.VendorIdOffset, new(() => m.VendorId, v => m.VendorId = v)),
        "DeviceFeatures" => (VirtioMmioRegisters.DeviceFeaturesOffset, new(() => m.DeviceFeatures, v => m.DeviceFeatures = v)),
        "DeviceFeaturesSel" => (VirtioMmioRegisters.DeviceFeaturesSelOffset, new(() => m.DeviceFeaturesSel, v => m.DeviceFeaturesSel = v)),
        "DriverFeatures" => (VirtioMmioRegisters.DriverFeaturesOffset, new(() => m.DriverFeatures, v => m.DriverFeatures = v)),
        "DriverFeaturesSel" => (VirtioMmioRegisters.DriverFeaturesSelOffset, new(() => m.DriverFeaturesSel, v => m.DriverFeaturesSel = v)),
        "QueueSel" => (VirtioMmioRegisters.QueueSelOffset, new(() => m.QueueSel, v => m.QueueSel = v)),
        "QueueNumMax" => (VirtioMmioRegisters.QueueNumMaxOffset, new(() => m.QueueNumMax, v => m.QueueNumMax = v)),
        "QueueNum" => (VirtioMmioRegisters.QueueNumOffset, new(() => m.QueueNum, v => m.QueueNum = v)),
        "QueueReady" => (VirtioMmioRegisters.QueueReadyOffset, new(() => m.QueueReady, v => m.QueueReady = v)),
        "InterruptStatus" => (VirtioMmioRegisters.InterruptStatusOffset, new(() => m.InterruptStatus, v => m.InterruptStatus = v)),
        "InterruptACK" => (VirtioMmioRegisters.InterruptAckOffset, new(() => m.InterruptAck, v => m.InterruptAck = v)),
        "Status" => (VirtioMmioRegisters.StatusOffset, new(() => m.Status, v => m.Status = v)),
        "QueueDescLow" => (VirtioMmioRegisters.QueueDescLowOffset, new(() => m.QueueDescLow, v => m.QueueDescLow = v)),
        "QueueDescHigh" => (VirtioMmioRegisters.QueueDescHighOffset, new(() => m.QueueDescHigh, v => m.QueueDescHigh = v)),
        "QueueDriverLow" => (VirtioMmioRegisters.QueueDriverLowOffset, new(() => m.QueueDriverLow, v => m.QueueDriverLow = v)),
        "QueueDriverHigh" => (VirtioMmioRegisters.QueueDriverHighOffset, new(() => m.QueueDriverHigh, v => m.QueueDriverHigh = v)),
        "QueueDeviceLow" => (VirtioMmioRegisters.QueueDeviceLowOffset, new(() => m.QueueDeviceLow, v => m.QueueDeviceLow = v)),
        "QueueDeviceHigh" => (VirtioMmioRegisters.QueueDeviceHighOffset, new(() => m.QueueDeviceHigh, v => m.QueueDeviceHigh = v)),
        "SHMSel" => (VirtioMmioRegisters.ShmSelOffset, new(() => m.ShmSel, v => m.ShmSel = v)),
        "SHMLenLow" => (VirtioMmioRegisters.ShmLenLowOffset, new(() => m.ShmLenLow, v => m.ShmLenLow = v)),
        "SHMLenHigh" => (VirtioMmioRegisters.ShmLenHighOffset, new(() => m.ShmLenHigh, v => m.ShmLenHigh = v)),
        "SHMBaseLow" => (VirtioMmioRegisters.ShmBaseLowOffset, new(() => m.ShmBaseLow, v => m.ShmBaseLow = v)),
        "SHMBaseHigh" => (VirtioMmioRegisters.ShmBaseHighOffset, new(() => m.ShmBaseHigh, v => m.ShmBaseHigh = v)),
        "QueueReset" => (VirtioMmioRegisters.QueueResetOffset, new(() => m.QueueReset, v => m.QueueReset = v)),
        "ConfigGeneration" => (VirtioMmioRegisters.ConfigGenerationOffset, new(() => m.ConfigGeneration, v => m.ConfigGeneration = v)),
        _ => throw new ArgumentException(name),
    };
}
