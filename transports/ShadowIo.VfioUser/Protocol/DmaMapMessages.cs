using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>DMA_MAP's flags (vfio-user.rst, "VFIO_USER_DMA_MAP").</summary>
[Flags]
internal enum DmaMapFlags : uint
{
    /// <summary>The server may read the range.</summary>
    Read = 1,
    /// <summary>The server may write the range.</summary>
    Write = 2,
}

/// <summary>
/// DMA_MAP request (32 bytes): argsz u32 @0, flags u32 @4, offset u64 @8 (into the fd), address u64
/// @16, size u64 @24, with 0 or 1 fd. Without an fd the server reaches the range only through
/// DMA_READ/DMA_WRITE (QEMU maps its BIOS and option-ROM ranges that way). The reply has no payload.
/// </summary>
/// <param name="Flags">READ and/or WRITE.</param>
/// <param name="Offset">Where the range starts in the fd (meaningless without one).</param>
/// <param name="Address">The range's client (guest physical) address.</param>
/// <param name="Size">The range's length.</param>
internal readonly record struct DmaMapRequest(DmaMapFlags Flags, ulong Offset, ulong Address, ulong Size)
{
    /// <summary>Bytes on the wire (and the argsz a client sends).</summary>
    public const int WireSize = 32;

    /// <summary>
    /// Decodes a request that arrived with <paramref name="fdCount"/> fds. EINVAL for a short payload
    /// or argsz, unknown flags, neither READ nor WRITE (VFIO refuses a mapping without access), more
    /// than one fd, an empty range, or a range whose end (in the address space or in the fd) wraps.
    /// Overlap with existing maps (EEXIST) is the map table's to check.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> payload, int fdCount, out DmaMapRequest request)
    {
        request = default;
        if (payload.Length < WireSize || BinaryPrimitives.ReadUInt32LittleEndian(payload) < WireSize)
            return Errno.EINVAL;
        var flags = (DmaMapFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        var offset = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        var address = BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]);
        var size = BinaryPrimitives.ReadUInt64LittleEndian(payload[24..]);
        if ((flags & ~(DmaMapFlags.Read | DmaMapFlags.Write)) != 0 || flags == 0)
            return Errno.EINVAL;
        if (fdCount is < 0 or > 1 || size == 0 || !Wire.EndFits(address, size))
            return Errno.EINVAL;
        if (fdCount == 1 && !Wire.EndFits(offset, size))
            return Errno.EINVAL;
        request = new DmaMapRequest(flags, offset, address, size);
        return 0;
    }

    /// <summary>Writes the 32 bytes and returns their count.</summary>
    public int Encode(Span<byte> destination)
    {
        Wire.Require(destination, WireSize, "DMA_MAP");
        BinaryPrimitives.WriteUInt32LittleEndian(destination, WireSize);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], Address);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], Size);
        return WireSize;
    }
}

/// <summary>DMA_UNMAP's flags.</summary>
[Flags]
internal enum DmaUnmapFlags : uint
{
    /// <summary>VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP: gone from the protocol with migration v1; refused.</summary>
    GetDirtyBitmap = 1,
    /// <summary>VFIO_DMA_UNMAP_FLAG_ALL: every map (address and size must be 0).</summary>
    All = 2,
}

/// <summary>
/// DMA_UNMAP request and reply (24 bytes): argsz u32 @0, flags u32 @4, address u64 @8, size u64 @16.
/// A range must match one map exactly (the map table checks); the reply echoes the request.
/// </summary>
/// <param name="Flags">0 or ALL.</param>
/// <param name="Address">The map's address (0 with ALL).</param>
/// <param name="Size">The map's size (0 with ALL).</param>
internal readonly record struct DmaUnmapRequest(DmaUnmapFlags Flags, ulong Address, ulong Size)
{
    /// <summary>Bytes on the wire.</summary>
    public const int WireSize = 24;

    /// <summary>
    /// Decodes a request. EINVAL for a short payload or argsz, any fd, unknown flags, ALL with a
    /// range, or an empty or wrapping range; ENOTSUP for GET_DIRTY_BITMAP.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> payload, int fdCount, out DmaUnmapRequest request)
    {
        request = default;
        if (payload.Length < WireSize || BinaryPrimitives.ReadUInt32LittleEndian(payload) < WireSize || fdCount != 0)
            return Errno.EINVAL;
        var flags = (DmaUnmapFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        var address = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        var size = BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]);
        if ((flags & ~(DmaUnmapFlags.GetDirtyBitmap | DmaUnmapFlags.All)) != 0)
            return Errno.EINVAL;
        if ((flags & DmaUnmapFlags.GetDirtyBitmap) != 0)
            return Errno.ENOTSUP;
        if (flags == DmaUnmapFlags.All ? address != 0 || size != 0 : size == 0 || !Wire.EndFits(address, size))
            return Errno.EINVAL;
        request = new DmaUnmapRequest(flags, address, size);
        return 0;
    }

    /// <summary>Writes the 24 bytes (request or reply) and returns their count.</summary>
    public int Encode(Span<byte> destination)
    {
        Wire.Require(destination, WireSize, "DMA_UNMAP");
        BinaryPrimitives.WriteUInt32LittleEndian(destination, WireSize);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Address);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], Size);
        return WireSize;
    }
}
