using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>GET_IRQ_INFO's flags (linux/vfio.h VFIO_IRQ_INFO_*).</summary>
[Flags]
internal enum IrqInfoFlags : uint
{
    /// <summary>Signalled through eventfds.</summary>
    EventFd = 1,
    /// <summary>MASK/UNMASK work.</summary>
    Maskable = 2,
    /// <summary>The device masks the line when it fires (INTx: each BAR access unmasks it in QEMU).</summary>
    AutoMasked = 4,
    /// <summary>Vectors cannot be added one by one (QEMU then disables and re-enables all).</summary>
    NoResize = 8,
}

/// <summary>
/// GET_IRQ_INFO (16 bytes both ways): argsz u32 @0, flags u32 @4, index u32 @8, count u32 @12.
/// The request carries argsz and index; the reply the index's flags and vector count.
/// </summary>
/// <param name="Flags">EVENTFD, MASKABLE, AUTOMASKED, NORESIZE.</param>
/// <param name="Index">IRQ index (<see cref="IrqIndex"/>).</param>
/// <param name="Count">Vectors of the index (0: not supported).</param>
internal readonly record struct IrqInfo(IrqInfoFlags Flags, uint Index, uint Count)
{
    /// <summary>Bytes on the wire, both ways.</summary>
    public const int WireSize = 16;

    private const IrqInfoFlags KnownFlags = IrqInfoFlags.EventFd | IrqInfoFlags.Maskable | IrqInfoFlags.AutoMasked | IrqInfoFlags.NoResize;

    /// <summary>Decodes a request: EINVAL for a short payload, argsz below 16, any fd, or an index past the PCI IRQs.</summary>
    public static int DecodeRequest(ReadOnlySpan<byte> payload, int fdCount, out uint index)
    {
        index = 0;
        if (payload.Length < WireSize || BinaryPrimitives.ReadUInt32LittleEndian(payload) < WireSize || fdCount != 0)
            return Errno.EINVAL;
        index = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        return index < IrqIndex.Count ? 0 : Errno.EINVAL;
    }

    /// <summary>Writes a request for <paramref name="index"/>.</summary>
    public static int EncodeRequest(Span<byte> destination, uint index)
    {
        Wire.Require(destination, WireSize, "GET_IRQ_INFO");
        destination[..WireSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, WireSize);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], index);
        return WireSize;
    }

    /// <summary>Decodes a reply: EINVAL for a short payload or argsz, unknown flags, or an index past the PCI IRQs.</summary>
    public static int DecodeReply(ReadOnlySpan<byte> payload, out IrqInfo info)
    {
        info = default;
        if (payload.Length < WireSize || BinaryPrimitives.ReadUInt32LittleEndian(payload) < WireSize)
            return Errno.EINVAL;
        var flags = (IrqInfoFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        var index = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        if ((flags & ~KnownFlags) != 0 || index >= IrqIndex.Count)
            return Errno.EINVAL;
        info = new IrqInfo(flags, index, BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]));
        return 0;
    }

    /// <summary>Writes the reply.</summary>
    public int EncodeReply(Span<byte> destination)
    {
        Wire.Require(destination, WireSize, "GET_IRQ_INFO");
        BinaryPrimitives.WriteUInt32LittleEndian(destination, WireSize);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], Count);
        return WireSize;
    }
}
