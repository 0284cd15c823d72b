using ShadowIo.Devices.Virtio;
using ShadowIo.Fuzz.Virtio;
using Xunit;

namespace ShadowIo.Virtio.Tests.Queues;

/// <summary>Feature negotiation, the status handshake, the queue window and reset (virtio 1.2, 2.1, 2.2, 3.1.1, 4.1.4.3).</summary>
public sealed class HandshakeTests
{
    private static ulong Common(ulong offset) => VirtioPciLayout.CommonConfigOffset + offset;

    [Fact]
    public void The_offered_features_read_in_two_halves()
    {
        using var f = new DeviceFixture();
        var offered = f.Driver.ReadDeviceFeatures();
        Assert.Equal(DeviceFixture.Linux, offered);
        Assert.Equal(offered, f.Device.OfferedFeatures);
        // A select past the second half reads 0.
        f.Driver.Write(Common(VirtioCommonConfigRegisters.DeviceFeatureSelectOffset), 4, 2);
        Assert.Equal(0UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.DeviceFeatureOffset), 4));
    }

    [Fact]
    public void Multiple_queues_offer_mq_and_report_the_count()
    {
        using var f = new DeviceFixture(new VirtioBlkDeviceOptions { Queues = 4 });
        Assert.True(f.Driver.ReadDeviceFeatures().HasFlag(VirtioFeatures.BlkMultiQueue));
        Assert.Equal(4UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.NumQueuesOffset), 2));
        Assert.Equal(4UL, f.Driver.Read(VirtioPciLayout.DeviceConfigOffset + VirtioBlkConfigRegisters.NumQueuesOffset, 2));
    }

    [Fact]
    public void Features_ok_sticks_only_for_a_set_the_device_can_do()
    {
        using var f = new DeviceFixture();
        Assert.False(f.Driver.Negotiate(VirtioFeatures.RingEventIdx), "a modern device requires VERSION_1");
        Assert.Equal(VirtioFeatures.None, f.Device.NegotiatedFeatures);

        // A bit the device did not offer (the driver writes it anyway).
        f.Driver.WriteStatus(VirtioDeviceStatus.Reset);
        f.Driver.WriteStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver);
        f.Driver.WriteDriverFeatures(VirtioFeatures.Version1 | VirtioFeatures.RingPacked);
        f.Driver.WriteStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk);
        Assert.False(f.Driver.Status.HasFlag(VirtioDeviceStatus.FeaturesOk));

        Assert.True(f.Driver.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx));
        Assert.Equal(VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx, f.Device.NegotiatedFeatures);
    }

    [Fact]
    public void Feature_writes_after_features_ok_are_ignored()
    {
        using var f = new DeviceFixture();
        Assert.True(f.Driver.Negotiate(VirtioFeatures.Version1));
        f.Driver.WriteDriverFeatures(VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx);
        Assert.Equal(VirtioFeatures.Version1, f.Device.NegotiatedFeatures);
        f.Driver.Write(Common(VirtioCommonConfigRegisters.DriverFeatureSelectOffset), 4, 0);
        Assert.Equal(0UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.DriverFeatureOffset), 4));
    }

    [Fact]
    public void Driver_ok_without_features_ok_needs_a_reset()
    {
        using var f = new DeviceFixture();
        f.Driver.WriteStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.DriverOk);
        Assert.True(f.NeedsReset);
        Assert.Equal(VirtqueueError.StatusOutOfOrder, f.Device.NeedsResetReason);
        // 2.1.2: DRIVER_OK was set, so the device sent a configuration-change interrupt (vector: none assigned).
        Assert.Equal([VirtioPciLayout.NoVector], f.Interrupts);
        Assert.Equal(2UL, f.Driver.Read(VirtioPciLayout.IsrOffset, 1));
        Assert.Equal(0UL, f.Driver.Read(VirtioPciLayout.IsrOffset, 1));
    }

    [Fact]
    public void The_driver_cannot_clear_a_status_bit_or_set_needs_reset()
    {
        using var f = new DeviceFixture();
        f.Driver.WriteStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver);
        f.Driver.WriteStatus(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.DeviceNeedsReset);
        Assert.Equal(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver, f.Driver.Status);
    }

    [Fact]
    public void The_queue_window_shows_the_selected_queue_and_zero_size_for_one_that_does_not_exist()
    {
        using var f = new DeviceFixture(new VirtioBlkDeviceOptions { Queues = 2, MaxQueueSize = 128 });
        Assert.True(f.Driver.Negotiate(DeviceFixture.Linux));
        f.Driver.SetUpQueue(1, 32);
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueSelectOffset), 2, 0);
        Assert.Equal(128UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueSizeOffset), 2));
        Assert.Equal(0UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueEnableOffset), 2));
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueSelectOffset), 2, 1);
        Assert.Equal(32UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueSizeOffset), 2));
        Assert.Equal(1UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueEnableOffset), 2));
        Assert.Equal(1UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueNotifyOffOffset), 2));
        Assert.Equal(VirtioDriverLayout.Descriptors(1), f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueDescOffset), 8));
        // An enabled queue's window is fixed (4.1.4.3.2).
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueSizeOffset), 2, 8);
        Assert.Equal(32UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueSizeOffset), 2));
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueSelectOffset), 2, 7);
        Assert.Equal(0UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueSizeOffset), 2));
    }

    [Fact]
    public void Vectors_the_device_cannot_map_read_back_as_no_vector()
    {
        using var f = new DeviceFixture(new VirtioBlkDeviceOptions { MsixVectors = 2 });
        f.Driver.Write(Common(VirtioCommonConfigRegisters.ConfigMsixVectorOffset), 2, 1);
        Assert.Equal(1UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.ConfigMsixVectorOffset), 2));
        f.Driver.Write(Common(VirtioCommonConfigRegisters.ConfigMsixVectorOffset), 2, 2);
        Assert.Equal(0xFFFFUL, f.Driver.Read(Common(VirtioCommonConfigRegisters.ConfigMsixVectorOffset), 2));
    }

    [Theory]
    [InlineData((ushort)0)]
    [InlineData((ushort)24)]
    [InlineData((ushort)512)]
    public void A_queue_size_that_cannot_work_needs_a_reset_instead_of_enabling(ushort size)
    {
        using var f = new DeviceFixture();
        Assert.True(f.Driver.Negotiate(DeviceFixture.Linux));
        f.Driver.SetUpQueue(0, size);
        Assert.True(f.NeedsReset);
        Assert.Equal(VirtqueueError.InvalidQueueConfiguration, f.Device.NeedsResetReason);
        Assert.Equal(0UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueEnableOffset), 2));
        Assert.Empty(f.Interrupts); // DRIVER_OK not yet set: no notification (2.1.2)
    }

    [Fact]
    public void Rings_outside_ram_or_misaligned_need_a_reset()
    {
        using var f = new DeviceFixture();
        Assert.True(f.Driver.Negotiate(DeviceFixture.Linux));
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueSelectOffset), 2, 0);
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueDescOffset), 8, VirtioDriverLayout.Base + VirtioDriverLayout.RamSize - 16);
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueDriverOffset), 8, VirtioDriverLayout.Avail(0));
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueDeviceOffset), 8, VirtioDriverLayout.Used(0) + 2);
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueEnableOffset), 2, 1);
        Assert.Equal(VirtqueueError.InvalidQueueConfiguration, f.Device.NeedsResetReason);
    }

    [Fact]
    public void Writing_zero_resets_everything_and_a_clean_driver_starts_over()
    {
        using var f = new DeviceFixture().Ready();
        f.Driver.Write(Common(VirtioCommonConfigRegisters.QueueSelectOffset), 2, 0);
        f.Driver.WriteStatus(VirtioDeviceStatus.Reset);
        Assert.Equal(VirtioDeviceStatus.Reset, f.Driver.Status);
        Assert.Equal(VirtioFeatures.None, f.Device.NegotiatedFeatures);
        Assert.Equal(256UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueSizeOffset), 2));
        Assert.Equal(0UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueEnableOffset), 2));
        Assert.Equal(0UL, f.Driver.Read(Common(VirtioCommonConfigRegisters.QueueDescOffset), 8));
        f.Ready();
        f.Submit(f.Driver.BuildRequest(0, 0, VirtioBlkRequestType.Flush, 0, 0, 0));
        Assert.Equal(0, f.Driver.StatusOf(0, 0));
    }

    [Fact]
    public void Device_configuration_reports_capacity_in_sectors_read_as_two_halves()
    {
        using var f = new DeviceFixture(new VirtioBlkDeviceOptions { BlockSize = 4096, MaxQueueSize = 128 });
        ulong capacity = f.Driver.Read(VirtioPciLayout.DeviceConfigOffset + 0, 4) | f.Driver.Read(VirtioPciLayout.DeviceConfigOffset + 4, 4) << 32;
        Assert.Equal((ulong)(DeviceFixture.DiskBytes / 512), capacity);
        Assert.Equal(4096UL, f.Driver.Read(VirtioPciLayout.DeviceConfigOffset + VirtioBlkConfigRegisters.BlkSizeOffset, 4));
        Assert.Equal(126UL, f.Driver.Read(VirtioPciLayout.DeviceConfigOffset + VirtioBlkConfigRegisters.SegMaxOffset, 4));
        f.Driver.Write(VirtioPciLayout.DeviceConfigOffset, 4, 0); // read-only
        Assert.Equal((ulong)(DeviceFixture.DiskBytes / 512), f.Driver.Read(VirtioPciLayout.DeviceConfigOffset, 8));
    }
}
