using ShadowIo.Devices.Virtio;
using Xunit;

namespace ShadowIo.Virtio.Tests.Registers;

/// <summary>
/// Every register map against the specification's structure definitions (virtio 1.2): the
/// offset and width of each field as the spec's C structs lay them out, typed in here from the
/// spec, never derived from the maps themselves.
/// </summary>
public sealed class SpecLayoutTests
{
    // Section 4.1.4.3, struct virtio_pci_common_cfg: (field, offset, width).
    public static TheoryData<string, ulong, int> CommonConfigFields => new()
    {
        { "device_feature_select", 0x00, 4 },
        { "device_feature", 0x04, 4 },
        { "driver_feature_select", 0x08, 4 },
        { "driver_feature", 0x0C, 4 },
        { "config_msix_vector", 0x10, 2 },
        { "num_queues", 0x12, 2 },
        { "device_status", 0x14, 1 },
        { "config_generation", 0x15, 1 },
        { "queue_select", 0x16, 2 },
        { "queue_size", 0x18, 2 },
        { "queue_msix_vector", 0x1A, 2 },
        { "queue_enable", 0x1C, 2 },
        { "queue_notify_off", 0x1E, 2 },
        { "queue_desc", 0x20, 8 },
        { "queue_driver", 0x28, 8 },
        { "queue_device", 0x30, 8 },
        { "queue_notify_data", 0x38, 2 },
        { "queue_reset", 0x3A, 2 },
    };

    [Theory]
    [MemberData(nameof(CommonConfigFields))]
    public void Common_configuration_fields_sit_where_the_spec_puts_them(string field, ulong offset, int width)
    {
        var (actualOffset, actualWidth) = field switch
        {
            "device_feature_select" => (VirtioCommonConfigRegisters.DeviceFeatureSelectOffset, sizeof(uint)),
            "device_feature" => (VirtioCommonConfigRegisters.DeviceFeatureOffset, sizeof(uint)),
            "driver_feature_select" => (VirtioCommonConfigRegisters.DriverFeatureSelectOffset, sizeof(uint)),
            "driver_feature" => (VirtioCommonConfigRegisters.DriverFeatureOffset, sizeof(uint)),
            "config_msix_vector" => (VirtioCommonConfigRegisters.ConfigMsixVectorOffset, sizeof(ushort)),
            "num_queues" => (VirtioCommonConfigRegisters.NumQueuesOffset, sizeof(ushort)),
            "device_status" => (VirtioCommonConfigRegisters.DeviceStatusOffset, sizeof(byte)),
            "config_generation" => (VirtioCommonConfigRegisters.ConfigGenerationOffset, sizeof(byte)),
            "queue_select" => (VirtioCommonConfigRegisters.QueueSelectOffset, sizeof(ushort)),
            "queue_size" => (VirtioCommonConfigRegisters.QueueSizeOffset, sizeof(ushort)),
            "queue_msix_vector" => (VirtioCommonConfigRegisters.QueueMsixVectorOffset, sizeof(ushort)),
            "queue_enable" => (VirtioCommonConfigRegisters.QueueEnableOffset, sizeof(ushort)),
            "queue_notify_off" => (VirtioCommonConfigRegisters.QueueNotifyOffOffset, sizeof(ushort)),
            "queue_desc" => (VirtioCommonConfigRegisters.QueueDescOffset, sizeof(ulong)),
            "queue_driver" => (VirtioCommonConfigRegisters.QueueDriverOffset, sizeof(ulong)),
            "queue_device" => (VirtioCommonConfigRegisters.QueueDeviceOffset, sizeof(ulong)),
            "queue_notify_data" => (VirtioCommonConfigRegisters.QueueNotifyDataOffset, sizeof(ushort)),
            "queue_reset" => (VirtioCommonConfigRegisters.QueueResetOffset, sizeof(ushort)),
            _ => throw new ArgumentException(field),
        };
        Assert.Equal((offset, width), (actualOffset, actualWidth));
        // The register answers a read of its full width there (a hole would read through OnUndefinedRead).
        Assert.True(offset + (ulong)width <= (ulong)VirtioCommonConfigRegisters.StructureLength);
    }

    [Fact]
    public void Device_status_bits_are_the_spec_values()
    {
        // Section 2.1: ACKNOWLEDGE 1, DRIVER 2, DRIVER_OK 4, FEATURES_OK 8, DEVICE_NEEDS_RESET 64, FAILED 128.
        Assert.Equal(1u, VirtioCommonConfigRegisters.DeviceStatusFields.AcknowledgeMask);
        Assert.Equal(2u, VirtioCommonConfigRegisters.DeviceStatusFields.DriverMask);
        Assert.Equal(4u, VirtioCommonConfigRegisters.DeviceStatusFields.DriverOkMask);
        Assert.Equal(8u, VirtioCommonConfigRegisters.DeviceStatusFields.FeaturesOkMask);
        Assert.Equal(64u, VirtioCommonConfigRegisters.DeviceStatusFields.DeviceNeedsResetMask);
        Assert.Equal(128u, VirtioCommonConfigRegisters.DeviceStatusFields.FailedMask);
        Assert.Equal(new byte[] { 1, 2, 4, 8, 64, 128 },
            new[] { VirtioDeviceStatus.Acknowledge, VirtioDeviceStatus.Driver, VirtioDeviceStatus.DriverOk, VirtioDeviceStatus.FeaturesOk, VirtioDeviceStatus.DeviceNeedsReset, VirtioDeviceStatus.Failed }.Select(s => (byte)s));
    }

    // Section 5.2.4, struct virtio_blk_config (with struct virtio_blk_geometry and virtio_blk_topology inlined).
    public static TheoryData<string, ulong, int> BlkConfigFields => new()
    {
        { "capacity", 0x00, 8 },
        { "size_max", 0x08, 4 },
        { "seg_max", 0x0C, 4 },
        { "geometry.cylinders", 0x10, 2 },
        { "geometry.heads", 0x12, 1 },
        { "geometry.sectors", 0x13, 1 },
        { "blk_size", 0x14, 4 },
        { "topology.physical_block_exp", 0x18, 1 },
        { "topology.alignment_offset", 0x19, 1 },
        { "topology.min_io_size", 0x1A, 2 },
        { "topology.opt_io_size", 0x1C, 4 },
        { "writeback", 0x20, 1 },
        { "num_queues", 0x22, 2 },
        { "max_discard_sectors", 0x24, 4 },
        { "max_discard_seg", 0x28, 4 },
        { "discard_sector_alignment", 0x2C, 4 },
        { "max_write_zeroes_sectors", 0x30, 4 },
        { "max_write_zeroes_seg", 0x34, 4 },
        { "write_zeroes_may_unmap", 0x38, 1 },
        { "max_secure_erase_sectors", 0x3C, 4 },
        { "max_secure_erase_seg", 0x40, 4 },
        { "secure_erase_sector_alignment", 0x44, 4 },
    };

    [Theory]
    [MemberData(nameof(BlkConfigFields))]
    public void Block_configuration_fields_sit_where_the_spec_puts_them(string field, ulong offset, int width)
    {
        var (actualOffset, actualWidth) = field switch
        {
            "capacity" => (VirtioBlkConfigRegisters.CapacityOffset, sizeof(ulong)),
            "size_max" => (VirtioBlkConfigRegisters.SizeMaxOffset, sizeof(uint)),
            "seg_max" => (VirtioBlkConfigRegisters.SegMaxOffset, sizeof(uint)),
            "geometry.cylinders" => (VirtioBlkConfigRegisters.GeometryCylindersOffset, sizeof(ushort)),
            "geometry.heads" => (VirtioBlkConfigRegisters.GeometryHeadsOffset, sizeof(byte)),
            "geometry.sectors" => (VirtioBlkConfigRegisters.GeometrySectorsOffset, sizeof(byte)),
            "blk_size" => (VirtioBlkConfigRegisters.BlkSizeOffset, sizeof(uint)),
            "topology.physical_block_exp" => (VirtioBlkConfigRegisters.PhysicalBlockExpOffset, sizeof(byte)),
            "topology.alignment_offset" => (VirtioBlkConfigRegisters.AlignmentOffsetOffset, sizeof(byte)),
            "topology.min_io_size" => (VirtioBlkConfigRegisters.MinIoSizeOffset, sizeof(ushort)),
            "topology.opt_io_size" => (VirtioBlkConfigRegisters.OptIoSizeOffset, sizeof(uint)),
            "writeback" => (VirtioBlkConfigRegisters.WritebackOffset, sizeof(byte)),
            "num_queues" => (VirtioBlkConfigRegisters.NumQueuesOffset, sizeof(ushort)),
            "max_discard_sectors" => (VirtioBlkConfigRegisters.MaxDiscardSectorsOffset, sizeof(uint)),
            "max_discard_seg" => (VirtioBlkConfigRegisters.MaxDiscardSegOffset, sizeof(uint)),
            "discard_sector_alignment" => (VirtioBlkConfigRegisters.DiscardSectorAlignmentOffset, sizeof(uint)),
            "max_write_zeroes_sectors" => (VirtioBlkConfigRegisters.MaxWriteZeroesSectorsOffset, sizeof(uint)),
            "max_write_zeroes_seg" => (VirtioBlkConfigRegisters.MaxWriteZeroesSegOffset, sizeof(uint)),
            "write_zeroes_may_unmap" => (VirtioBlkConfigRegisters.WriteZeroesMayUnmapOffset, sizeof(byte)),
            "max_secure_erase_sectors" => (VirtioBlkConfigRegisters.MaxSecureEraseSectorsOffset, sizeof(uint)),
            "max_secure_erase_seg" => (VirtioBlkConfigRegisters.MaxSecureEraseSegOffset, sizeof(uint)),
            "secure_erase_sector_alignment" => (VirtioBlkConfigRegisters.SecureEraseSectorAlignmentOffset, sizeof(uint)),
            _ => throw new ArgumentException(field),
        };
        Assert.Equal((offset, width), (actualOffset, actualWidth));
        Assert.True(offset + (ulong)width <= (ulong)VirtioBlkConfigRegisters.StructureLength);
    }

    [Fact]
    public void The_isr_is_one_byte_whose_read_returns_and_clears_both_bits()
    {
        // Section 4.1.4.5: bit 0 queue interrupt, bit 1 device configuration interrupt; reading resets it to 0.
        Assert.Equal(0UL, VirtioIsrRegisters.IsrStatusOffset);
        Assert.Equal(1u, VirtioIsrRegisters.IsrStatusFields.QueueInterruptMask);
        Assert.Equal(2u, VirtioIsrRegisters.IsrStatusFields.DeviceConfigurationInterruptMask);
        var isr = new VirtioIsrRegisters();
        isr.IsrStatusQueueInterrupt = true;
        isr.IsrStatusDeviceConfigurationInterrupt = true;
        Assert.Equal(3UL, isr.ReadMmio(0, 1));
        Assert.Equal(0UL, isr.ReadMmio(0, 1));
        isr.WriteMmio(0, 1, 0xFF); // The driver cannot set it.
        Assert.Equal(0UL, isr.ReadMmio(0, 1));
    }

    [Fact]
    public void Notify_doorbells_are_notify_only_16_bit_at_the_multiplier_stride()
    {
        // Section 4.1.4.4: queue n notifies at cap.offset + queue_notify_off × notify_off_multiplier; with
        // queue_notify_off = n and a multiplier of 4, queue n's doorbell is at 4n within the region.
        var table = VirtioNotifyRegisters.DoorbellTable;
        Assert.Equal(VirtioPciLayout.MaxQueues, table.Count);
        for (int queue = 0; queue < VirtioPciLayout.MaxQueues; queue++)
        {
            var row = table[VirtioNotifyRegisters.RowOf(queue)];
            Assert.Equal((ulong)(4 * queue), row.Offset);
            Assert.Equal(2, row.Width);
            Assert.Equal(DoorbellKind.Notify, row.Kind);
            Assert.False(row.HasDataMatch);
            Assert.Equal(-1, row.ShadowOffset);
            Assert.Equal(queue, VirtioNotifyRegisters.QueueOf(VirtioNotifyRegisters.RowOf(queue)));
        }
        Assert.Equal(-1, VirtioNotifyRegisters.QueueOf(VirtioPciLayout.MaxQueues));
    }

    [Fact]
    public void The_regions_tile_one_bar_without_overlap()
    {
        (ulong Offset, ulong Size)[] regions =
        [
            (VirtioPciLayout.CommonConfigOffset, VirtioCommonConfigRegisters.BlockSize),
            (VirtioPciLayout.IsrOffset, VirtioIsrRegisters.BlockSize),
            (VirtioPciLayout.DeviceConfigOffset, VirtioBlkConfigRegisters.BlockSize),
            (VirtioPciLayout.NotifyOffset, VirtioNotifyRegisters.BlockSize),
        ];
        ulong end = 0;
        foreach (var (offset, size) in regions.OrderBy(r => r.Offset))
        {
            Assert.Equal(end, offset);
            end = offset + size;
        }
        Assert.Equal(VirtioPciLayout.BarSize, end);
        Assert.True((VirtioPciLayout.BarSize & (VirtioPciLayout.BarSize - 1)) == 0, "a BAR's size is a power of two");
    }
}
