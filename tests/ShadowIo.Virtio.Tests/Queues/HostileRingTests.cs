using ShadowIo.Devices.Virtio;
using ShadowIo.Fuzz.Virtio;
using Xunit;

namespace ShadowIo.Virtio.Tests.Queues;

/// <summary>
/// Rings a device cannot use (virtio 1.2, 2.7): each is answered by DEVICE_NEEDS_RESET and a
/// configuration-change interrupt (2.1.2), never an exception or an access outside RAM, and the
/// device touches the queue no further until the driver resets it.
/// </summary>
public sealed class HostileRingTests
{
    private static readonly ulong Table = VirtioDriverLayout.Descriptors(0);
    private const ulong Header = VirtioDriverLayout.Headers;

    private static void AssertNeedsReset(DeviceFixture f, VirtqueueError reason)
    {
        Assert.True(f.NeedsReset, "DEVICE_NEEDS_RESET");
        Assert.Equal(reason, f.Device.NeedsResetReason);
        Assert.Equal([VirtioPciLayout.NoVector], f.Interrupts); // one configuration-change notification
        Assert.Equal(2UL, f.Driver.Read(VirtioPciLayout.IsrOffset, 1));
        Assert.Equal(0L, f.Device.Counters.RequestsCompleted);
        f.AssertSafe();
        // Further notifications do nothing until a reset.
        f.Driver.Notify(0);
        Assert.Equal(0L, f.Device.Counters.RequestsCompleted);
        // A reset and a clean driver recover.
        f.Ready();
        Assert.False(f.NeedsReset);
        f.Submit(f.Driver.BuildRequest(0, 0, VirtioBlkRequestType.Flush, 0, 0, 0));
        Assert.Equal(0, f.Driver.StatusOf(0, 0));
    }

    [Fact]
    public void A_looping_chain()
    {
        using var f = new DeviceFixture().Ready();
        f.Driver.WriteHeader(Header, VirtioBlkRequestType.In, 0);
        f.Driver.WriteDescriptor(Table, 0, Header, 16, 1, 1);
        f.Driver.WriteDescriptor(Table, 1, VirtioDriverLayout.Data, 512, 3, 2);
        f.Driver.WriteDescriptor(Table, 2, VirtioDriverLayout.Data, 512, 3, 1); // back to 1
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.ChainLongerThanQueue);
    }

    [Fact]
    public void A_chain_longer_than_the_queue_through_an_indirect_table()
    {
        using var f = new DeviceFixture().Ready(size: 16);
        ulong indirect = VirtioDriverLayout.IndirectTables;
        f.Driver.WriteHeader(Header, VirtioBlkRequestType.Out, 0);
        f.Driver.WriteDescriptor(indirect, 0, Header, 16, 1, 1);
        for (int i = 1; i < 17; i++) f.Driver.WriteDescriptor(indirect, i, VirtioDriverLayout.Data, 512, 1, (ushort)(i + 1));
        f.Driver.WriteDescriptor(indirect, 17, Header + 16, 1, 2, 0);
        f.Driver.WriteDescriptor(Table, 0, indirect, 18 * 16, 4, 0);
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.ChainLongerThanQueue);
    }

    [Fact]
    public void A_next_past_the_table()
    {
        using var f = new DeviceFixture().Ready(size: 16);
        f.Driver.WriteDescriptor(Table, 0, Header, 16, 1, 16);
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.NextOutOfRange);
    }

    [Fact]
    public void An_available_entry_naming_a_descriptor_past_the_table()
    {
        using var f = new DeviceFixture().Ready(size: 16);
        f.Submit(40);
        AssertNeedsReset(f, VirtqueueError.HeadOutOfRange);
    }

    [Fact]
    public void An_available_index_more_than_the_queue_size_ahead()
    {
        using var f = new DeviceFixture().Ready(size: 16);
        f.Driver.SetAvailIdx(0, 17);
        f.Driver.Notify(0);
        AssertNeedsReset(f, VirtqueueError.AvailIndexTooFar);
    }

    [Fact]
    public void A_readable_descriptor_after_a_writable_one()
    {
        using var f = new DeviceFixture().Ready();
        f.Driver.WriteDescriptor(Table, 0, Header + 16, 1, 3, 1);
        f.Driver.WriteDescriptor(Table, 1, Header, 16, 0, 0);
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.ReadableAfterWritable);
    }

    [Fact]
    public void An_indirect_descriptor_without_the_feature()
    {
        using var f = new DeviceFixture().Ready(VirtioFeatures.Version1);
        f.Submit(f.Driver.BuildRequest(0, 0, VirtioBlkRequestType.Flush, 0, 0, 0, indirect: true));
        AssertNeedsReset(f, VirtqueueError.IndirectNotNegotiated);
    }

    [Fact]
    public void An_indirect_table_inside_an_indirect_table()
    {
        using var f = new DeviceFixture().Ready();
        ulong outer = VirtioDriverLayout.IndirectTables, inner = outer + 4096;
        f.Driver.WriteDescriptor(inner, 0, Header + 16, 1, 2, 0);
        f.Driver.WriteDescriptor(outer, 0, inner, 16, 4, 0);
        f.Driver.WriteDescriptor(Table, 0, outer, 16, 4, 0);
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.NestedIndirect);
    }

    [Fact]
    public void An_indirect_descriptor_that_also_chains_on()
    {
        using var f = new DeviceFixture().Ready();
        f.Driver.WriteDescriptor(Table, 0, VirtioDriverLayout.IndirectTables, 32, 4 | 1, 1);
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.IndirectWithNext);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(24u)]
    public void An_indirect_table_of_a_length_that_is_not_whole_descriptors(uint length)
    {
        using var f = new DeviceFixture().Ready();
        f.Driver.WriteDescriptor(Table, 0, VirtioDriverLayout.IndirectTables, length, 4, 0);
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.IndirectBadLength);
    }

    [Fact]
    public void An_indirect_table_running_past_ram()
    {
        using var f = new DeviceFixture().Ready();
        f.Driver.WriteDescriptor(Table, 0, VirtioDriverLayout.Base + VirtioDriverLayout.RamSize - 32, 4096, 4, 0);
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.RingOutsideMemory);
    }

    [Fact]
    public void A_request_without_a_writable_status_byte()
    {
        using var f = new DeviceFixture().Ready();
        f.Driver.WriteHeader(Header, VirtioBlkRequestType.Flush, 0);
        f.Driver.WriteDescriptor(Table, 0, Header, 17, 0, 0);
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.NoStatusByte);
    }

    [Fact]
    public void A_status_byte_outside_ram()
    {
        using var f = new DeviceFixture().Ready();
        f.Driver.WriteHeader(Header, VirtioBlkRequestType.Flush, 0);
        f.Driver.WriteDescriptor(Table, 0, Header, 16, 1, 1);
        f.Driver.WriteDescriptor(Table, 1, 0xFFFF_FFFF_0000, 1, 2, 0);
        f.Submit(0);
        AssertNeedsReset(f, VirtqueueError.NoStatusByte);
    }

    [Fact]
    public void Descriptor_lengths_that_sum_past_four_gigabytes_fail_the_request_not_the_device()
    {
        using var f = new DeviceFixture().Ready();
        f.Driver.WriteHeader(Header, VirtioBlkRequestType.In, 0);
        f.Driver.WriteDescriptor(Table, 0, Header, 16, 1, 1);
        f.Driver.WriteDescriptor(Table, 1, VirtioDriverLayout.Data, uint.MaxValue, 3, 2);
        f.Driver.WriteDescriptor(Table, 2, VirtioDriverLayout.Data, uint.MaxValue, 3, 3);
        f.Driver.WriteDescriptor(Table, 3, Header + 16, 1, 2, 0);
        f.Ram.At(Header + 16, 1)[0] = 0xFF;
        f.Submit(0);
        Assert.Equal((byte)VirtioBlkStatus.IoError, f.Ram.At(Header + 16, 1)[0]);
        Assert.False(f.NeedsReset);
        f.AssertSafe();
    }
}
