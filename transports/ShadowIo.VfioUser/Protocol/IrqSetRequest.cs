using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>SET_IRQS's flags (linux/vfio.h VFIO_IRQ_SET_*): one data type (bits 0–2) and one action (bits 3–5).</summary>
[Flags]
internal enum IrqSetFlags : uint
{
    /// <summary>No data: the action applies to the whole range.</summary>
    DataNone = 1,
    /// <summary>One byte per vector: the action applies where it is nonzero.</summary>
    DataBool = 2,
    /// <summary>One eventfd per vector, as SCM_RIGHTS (none: de-assign).</summary>
    DataEventFd = 4,
    /// <summary>Mask the vectors.</summary>
    ActionMask = 8,
    /// <summary>Unmask the vectors.</summary>
    ActionUnmask = 16,
    /// <summary>Trigger the vectors, or (with eventfds) say which eventfd each signals.</summary>
    ActionTrigger = 32,
    /// <summary>The data-type bits.</summary>
    DataTypeMask = DataNone | DataBool | DataEventFd,
    /// <summary>The action bits.</summary>
    ActionTypeMask = ActionMask | ActionUnmask | ActionTrigger,
}

/// <summary>
/// SET_IRQS request (<c>struct vfio_irq_set</c>, 20 bytes): argsz u32 @0, flags u32 @4, index u32
/// @8, start u32 @12, count u32 @16, then DATA_BOOL's count bytes; eventfds ride as SCM_RIGHTS.
/// The reply has no payload. Checked as libvfio-user checks it (lib/irq.c): exactly one data type
/// and one action; fds only with DATA_EVENTFD, and then none (de-assign) or exactly count;
/// count 0 only as DATA_NONE|TRIGGER from start 0 (disable the index); ERR and REQ take only
/// TRIGGER and at most one vector. Whether start + count fits the index's vectors is
/// <see cref="CheckRange"/>'s, against the device's count.
/// </summary>
/// <param name="Flags">One data type, one action.</param>
/// <param name="Index">IRQ index.</param>
/// <param name="Start">First vector.</param>
/// <param name="Count">Vectors from <paramref name="Start"/>.</param>
internal readonly record struct IrqSetRequest(IrqSetFlags Flags, uint Index, uint Start, uint Count)
{
    /// <summary>The fixed part.</summary>
    public const int WireSize = 20;

    /// <summary>More vectors than PCI allows (MSI-X: 2048); a count past it is refused before any lookup.</summary>
    public const uint MaxVectors = 2048;

    /// <summary>The data type alone.</summary>
    public IrqSetFlags DataType => Flags & IrqSetFlags.DataTypeMask;

    /// <summary>The action alone.</summary>
    public IrqSetFlags Action => Flags & IrqSetFlags.ActionTypeMask;

    /// <summary>
    /// Decodes a request that arrived with <paramref name="fdCount"/> fds; <paramref name="boolData"/>
    /// is DATA_BOOL's count bytes, in place. EINVAL for anything the type summary above refuses,
    /// a short payload or argsz, or DATA_BOOL bytes missing from the payload.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> payload, int fdCount, out IrqSetRequest request, out ReadOnlySpan<byte> boolData)
    {
        request = default;
        boolData = default;
        if (payload.Length < WireSize || BinaryPrimitives.ReadUInt32LittleEndian(payload) < WireSize || fdCount < 0)
            return Errno.EINVAL;
        var flags = (IrqSetFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        var index = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        var start = BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(payload[16..]);
        var dataType = flags & IrqSetFlags.DataTypeMask;
        var action = flags & IrqSetFlags.ActionTypeMask;
        if ((flags & ~(IrqSetFlags.DataTypeMask | IrqSetFlags.ActionTypeMask)) != 0)
            return Errno.EINVAL;
        if (!IsSingleBit((uint)dataType) || !IsSingleBit((uint)action))
            return Errno.EINVAL;
        if (index >= IrqIndex.Count || count > MaxVectors || start > MaxVectors - count)
            return Errno.EINVAL;
        if ((index == IrqIndex.Err || index == IrqIndex.Req) && (action != IrqSetFlags.ActionTrigger || count > 1))
            return Errno.EINVAL;
        if (count == 0 && (action != IrqSetFlags.ActionTrigger || dataType != IrqSetFlags.DataNone || start != 0))
            return Errno.EINVAL;
        if (fdCount != 0 && (dataType != IrqSetFlags.DataEventFd || fdCount != count))
            return Errno.EINVAL;
        if (dataType == IrqSetFlags.DataBool)
        {
            if (payload.Length - WireSize < count)
                return Errno.EINVAL;
            boolData = payload.Slice(WireSize, (int)count);
        }
        request = new IrqSetRequest(flags, index, start, count);
        return 0;
    }

    /// <summary>EINVAL unless vectors start … start + count − 1 exist among the index's <paramref name="vectorCount"/>.</summary>
    public int CheckRange(uint vectorCount) =>
        Count == 0 || (Start < vectorCount && Count <= vectorCount - Start) ? 0 : Errno.EINVAL;

    /// <summary>Writes the request (with DATA_BOOL's bytes) and returns its length.</summary>
    public int Encode(Span<byte> destination, ReadOnlySpan<byte> boolData = default)
    {
        int length = WireSize + boolData.Length;
        Wire.Require(destination, length, "SET_IRQS");
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], Start);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], Count);
        boolData.CopyTo(destination[WireSize..]);
        return length;
    }

    private static bool IsSingleBit(uint value) => value != 0 && (value & (value - 1)) == 0;
}
