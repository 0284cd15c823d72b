using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Protocol;

public sealed class IrqSetRequestTests
{
    private const uint EventFdTrigger = (uint)(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger);
    private const uint NoneTrigger = (uint)(IrqSetFlags.DataNone | IrqSetFlags.ActionTrigger);
    private const uint BoolMask = (uint)(IrqSetFlags.DataBool | IrqSetFlags.ActionMask);

    private static Payload Set(uint flags, uint index, uint start, uint count) =>
        new Payload().U32(20).U32(flags).U32(index).U32(start).U32(count);

    [Fact]
    public void Eventfds_for_MSI_X_vectors_round_trip()
    {
        var set = new IrqSetRequest(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 4, 3);
        var bytes = new byte[IrqSetRequest.WireSize];
        Assert.Equal(20, set.Encode(bytes));
        Assert.Equal(0, IrqSetRequest.Decode(bytes, fdCount: 3, out var decoded, out var data));
        Assert.Equal(set, decoded);
        Assert.Equal(IrqSetFlags.DataEventFd, decoded.DataType);
        Assert.Equal(IrqSetFlags.ActionTrigger, decoded.Action);
        Assert.True(data.IsEmpty);
    }

    [Fact]
    public void The_shapes_QEMU_sends_decode()
    {
        // MSI-X enabled with no vectors: EVENTFD|TRIGGER start 0 count 1 and no fd (de-assign).
        Assert.Equal(0, IrqSetRequest.Decode(Set(EventFdTrigger, IrqIndex.Msix, 0, 1), 0, out _, out _));
        // The error notification: one eventfd.
        Assert.Equal(0, IrqSetRequest.Decode(Set(EventFdTrigger, IrqIndex.Err, 0, 1), 1, out _, out _));
        // Disabling an index: DATA_NONE|TRIGGER, start 0, count 0.
        Assert.Equal(0, IrqSetRequest.Decode(Set(NoneTrigger, IrqIndex.Msi, 0, 0), 0, out var disable, out _));
        Assert.Equal(0u, disable.Count);
        // INTx unmask (QEMU's EOI on every BAR access).
        Assert.Equal(0, IrqSetRequest.Decode(Set((uint)(IrqSetFlags.DataNone | IrqSetFlags.ActionUnmask), IrqIndex.Intx, 0, 1), 0, out _, out _));
    }

    [Fact]
    public void DATA_BOOL_carries_one_byte_per_vector_in_place()
    {
        byte[] payload = Set(BoolMask, IrqIndex.Msix, 2, 3).Bytes(1, 0, 1, 0xEE);
        Assert.Equal(0, IrqSetRequest.Decode(payload, 0, out var set, out var data));
        Assert.Equal([1, 0, 1], data.ToArray());

        var bytes = new byte[23];
        Assert.Equal(23, set.Encode(bytes, [1, 0, 1]));
        Assert.Equal(0, IrqSetRequest.Decode(bytes, 0, out var again, out data));
        Assert.Equal(set, again);
        Assert.Equal([1, 0, 1], data.ToArray());
    }

    public static TheoryData<string, byte[], int> Malformed => new()
    {
        { "short payload", new byte[19], 0 },
        { "argsz below 20", new Payload().U32(19).U32(EventFdTrigger).U32(2).U32(0).U32(1), 1 },
        { "two data types", Set((uint)(IrqSetFlags.DataNone | IrqSetFlags.DataBool | IrqSetFlags.ActionTrigger), 2, 0, 1), 0 },
        { "two actions", Set((uint)(IrqSetFlags.DataNone | IrqSetFlags.ActionMask | IrqSetFlags.ActionTrigger), 2, 0, 1), 0 },
        { "no action", Set((uint)IrqSetFlags.DataNone, 2, 0, 1), 0 },
        { "no data type", Set((uint)IrqSetFlags.ActionTrigger, 2, 0, 1), 0 },
        { "an unknown flag", Set(NoneTrigger | 64, 2, 0, 1), 0 },
        { "index past REQ", Set(NoneTrigger, 5, 0, 1), 0 },
        { "ERR masked", Set((uint)(IrqSetFlags.DataNone | IrqSetFlags.ActionMask), IrqIndex.Err, 0, 1), 0 },
        { "REQ with two vectors", Set(EventFdTrigger, IrqIndex.Req, 0, 2), 2 },
        { "count 0 with eventfds", Set(EventFdTrigger, 2, 0, 0), 0 },
        { "count 0 as a mask", Set((uint)(IrqSetFlags.DataNone | IrqSetFlags.ActionMask), 2, 0, 0), 0 },
        { "count 0 from start 1", Set(NoneTrigger, 2, 1, 0), 0 },
        { "fewer fds than count", Set(EventFdTrigger, 2, 0, 3), 2 },
        { "more fds than count", Set(EventFdTrigger, 2, 0, 1), 2 },
        { "fds with DATA_NONE", Set(NoneTrigger, 2, 0, 1), 1 },
        { "fds with DATA_BOOL", Set(BoolMask, 2, 0, 1).Bytes(1), 1 },
        { "DATA_BOOL bytes missing", Set(BoolMask, 2, 0, 4).Bytes(1, 1), 0 },
        { "count past 2048 vectors", Set(NoneTrigger, 2, 0, 2049), 0 },
        { "start + count wraps", Set(NoneTrigger, 2, uint.MaxValue, 2), 0 },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_requests_are_EINVAL(string why, byte[] payload, int fds)
    {
        Assert.True(EINVAL == IrqSetRequest.Decode(payload, fds, out var set, out var data), why);
        Assert.Equal(default, set);
        Assert.True(data.IsEmpty);
    }

    [Theory]
    [InlineData(0u, 1u, 1u, true)]
    [InlineData(0u, 0u, 0u, true)]       // disabling an index with no vectors
    [InlineData(63u, 1u, 64u, true)]
    [InlineData(63u, 2u, 64u, false)]
    [InlineData(64u, 1u, 64u, false)]
    [InlineData(0u, 1u, 0u, false)]      // an index the device does not have
    public void The_range_is_checked_against_the_devices_vectors(uint start, uint count, uint vectors, bool accepted)
    {
        var set = new IrqSetRequest(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, start, count);
        Assert.Equal(accepted ? 0 : EINVAL, set.CheckRange(vectors));
    }
}
