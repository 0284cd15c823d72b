using System.Buffers.Binary;
using ShadowIo.Devices.Virtio;
using ShadowIo.Fuzz.Virtio;
using Xunit;

namespace ShadowIo.Virtio.Tests.Queues;

/// <summary>
/// Notification suppression both ways (virtio 1.2, 2.7.7 and 2.7.10) and the hand-over with a
/// polling thread: while polling the driver's rule says "don't notify"; when polling stops the
/// device arms notifications and one more look finds what was published meanwhile.
/// </summary>
public sealed class NotificationTests
{
    private static ushort AvailEvent(DeviceFixture f, ushort size) =>
        BinaryPrimitives.ReadUInt16LittleEndian(f.Ram.At(VirtioDriverLayout.Used(0) + 4 + 8UL * size, 2));

    private static ushort UsedFlags(DeviceFixture f) => BinaryPrimitives.ReadUInt16LittleEndian(f.Ram.At(VirtioDriverLayout.Used(0), 2));

    private static ushort Flush(DeviceFixture f, ushort first) => f.Driver.BuildRequest(0, first, VirtioBlkRequestType.Flush, 0, 0, 0);

    [Fact]
    public void With_event_idx_a_polling_device_keeps_the_driver_from_notifying_and_arming_makes_it_notify_again()
    {
        using var f = new DeviceFixture().Ready(size: 16);
        Assert.Equal(0, AvailEvent(f, 16)); // armed at enable: the first chain notifies

        f.Device.IsPolling = true;
        Assert.Equal(0xFFFF, AvailEvent(f, 16)); // next slot − 1
        for (ushort i = 0; i < 3; i++)
        {
            ushort old = f.Driver.AvailIdx(0);
            f.Driver.Publish(0, Flush(f, (ushort)(4 * i)));
            Assert.False(f.Driver.KickIfNeeded(0, old), "Linux's vring_need_event says no while the device polls");
            Assert.Equal(1, f.Device.Poll());
            Assert.Equal((ushort)(f.Driver.AvailIdx(0) - 1), AvailEvent(f, 16));
        }

        // Polling ends: armed at the next slot, and a chain published just before is found by the runner's last Poll.
        ushort before = f.Driver.AvailIdx(0);
        f.Driver.Publish(0, Flush(f, 12));
        Assert.False(f.Driver.KickIfNeeded(0, before));
        f.Device.IsPolling = false;
        Assert.Equal(1, f.Device.Poll());
        Assert.Equal(f.Driver.AvailIdx(0), AvailEvent(f, 16));
        ushort next = f.Driver.AvailIdx(0);
        f.Driver.Publish(0, Flush(f, 0));
        Assert.True(f.Driver.KickIfNeeded(0, next), "armed: the driver's next chain notifies");
        Assert.Equal(5L, f.Device.Counters.RequestsCompleted);
        Assert.Equal(1L, f.Driver.NotifyWrites);
    }

    [Fact]
    public void Without_event_idx_polling_sets_no_notify_and_arming_clears_it()
    {
        using var f = new DeviceFixture().Ready(VirtioFeatures.Version1, size: 16);
        Assert.Equal(0, UsedFlags(f));
        f.Device.IsPolling = true;
        Assert.Equal(1, UsedFlags(f));
        ushort old = f.Driver.AvailIdx(0);
        f.Driver.Publish(0, Flush(f, 0));
        Assert.False(f.Driver.KickIfNeeded(0, old));
        f.Device.IsPolling = false;
        Assert.Equal(0, UsedFlags(f));
        Assert.Equal(1, f.Device.Poll());
    }

    [Fact]
    public void Used_event_decides_which_batches_interrupt()
    {
        using var f = new DeviceFixture().Ready(size: 16);
        // 2.7.10: interrupt when the used idx passes used_event. used_event = 2: the first two completions stay quiet.
        f.Driver.SetUsedEvent(0, 2);
        f.Submit(Flush(f, 0));
        f.Submit(Flush(f, 4));
        Assert.Empty(f.Interrupts);
        f.Submit(Flush(f, 8)); // used idx 2 → 3 passes used_event 2
        Assert.Equal([VirtioPciLayout.NoVector], f.Interrupts);
        Assert.Equal(2L, f.Device.Counters.InterruptsSuppressed);
        Assert.Equal(1UL, f.Driver.Read(VirtioPciLayout.IsrOffset, 1)); // INTx: ISR bit 0
    }

    [Fact]
    public void Without_event_idx_no_interrupt_flag_suppresses_and_the_queue_vector_is_used()
    {
        using var f = new DeviceFixture().Ready(VirtioFeatures.Version1, size: 16);
        f.Driver.WriteStatus(VirtioDeviceStatus.Reset);
        Assert.True(f.Driver.Negotiate(VirtioFeatures.Version1));
        f.Driver.Write(VirtioPciLayout.CommonConfigOffset + VirtioCommonConfigRegisters.QueueSelectOffset, 2, 0);
        f.Driver.Write(VirtioPciLayout.CommonConfigOffset + VirtioCommonConfigRegisters.QueueMsixVectorOffset, 2, 1);
        f.Driver.SetUpQueue(0, 16);
        f.Driver.DriverOk();
        f.Driver.SetAvailFlags(0, 1);
        f.Submit(Flush(f, 0));
        Assert.Empty(f.Interrupts);
        f.Driver.SetAvailFlags(0, 0);
        f.Submit(Flush(f, 4));
        Assert.Equal([(ushort)1], f.Interrupts);
    }

    [Fact]
    public void A_batch_published_before_one_notify_completes_whole_with_one_interrupt()
    {
        using var f = new DeviceFixture().Ready(size: 16);
        ushort old = f.Driver.AvailIdx(0);
        for (ushort i = 0; i < 4; i++) f.Driver.Publish(0, Flush(f, (ushort)(4 * i)));
        Assert.True(f.Driver.KickIfNeeded(0, old));
        Assert.Equal(4, f.Driver.UsedIdx(0));
        Assert.Single(f.Interrupts); // used_event 0 lies in (0, 4]
    }
}
