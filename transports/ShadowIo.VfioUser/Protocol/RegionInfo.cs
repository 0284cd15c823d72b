using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>GET_REGION_INFO's flags (linux/vfio.h VFIO_REGION_INFO_FLAG_*).</summary>
[Flags]
internal enum RegionFlags : uint
{
    /// <summary>The region can be read.</summary>
    Read = 1,
    /// <summary>The region can be written.</summary>
    Write = 2,
    /// <summary>The reply carries an fd the client may mmap (at <see cref="RegionInfo.Offset"/>).</summary>
    Mmap = 4,
    /// <summary>Capabilities follow at cap_offset (or would, had argsz been large enough).</summary>
    Caps = 8,
}

/// <summary>One mmappable area of a region (VFIO_REGION_INFO_CAP_SPARSE_MMAP): offset and size within the region.</summary>
/// <param name="Offset">Start within the region.</param>
/// <param name="Size">Length.</param>
internal readonly record struct SparseMmapArea(ulong Offset, ulong Size)
{
    /// <summary>Bytes on the wire.</summary>
    public const int WireSize = 16;
}

/// <summary>The sparse mmap areas of a decoded reply, read in place from the payload (no copy, no allocation).</summary>
internal readonly ref struct SparseMmapAreas
{
    private readonly ReadOnlySpan<byte> _bytes;

    internal SparseMmapAreas(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>How many areas.</summary>
    public int Count => _bytes.Length / SparseMmapArea.WireSize;

    /// <summary>Area <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>).</summary>
    public SparseMmapArea this[int index]
    {
        get
        {
            var area = _bytes.Slice(index * SparseMmapArea.WireSize, SparseMmapArea.WireSize);
            return new SparseMmapArea(BinaryPrimitives.ReadUInt64LittleEndian(area), BinaryPrimitives.ReadUInt64LittleEndian(area[8..]));
        }
    }
}

/// <summary>
/// GET_REGION_INFO (vfio-user.rst): request and reply are <c>struct vfio_region_info</c>, 32 bytes:
/// argsz u32 @0, flags u32 @4, index u32 @8, cap_offset u32 @12, size u64 @16, offset u64 @24. In
/// the request argsz is the largest reply the client accepts; in the reply it is the size the
/// whole answer needs, so a client whose argsz was too small asks again (QEMU does). The one
/// capability served is SPARSE_MMAP (id 1, version 1): header {id u16, version u16, next u32},
/// nr_areas u32, reserved u32, then {offset u64, size u64} per area.
/// </summary>
/// <param name="Argsz">Reply: bytes the full answer needs.</param>
/// <param name="Flags">READ, WRITE, MMAP, CAPS.</param>
/// <param name="Index">Region index.</param>
/// <param name="CapabilityOffset">Where the first capability starts (from the payload's start), 0 if none is included.</param>
/// <param name="Size">Region size.</param>
/// <param name="Offset">Offset to mmap the region's fd at.</param>
internal readonly record struct RegionInfo(uint Argsz, RegionFlags Flags, uint Index, uint CapabilityOffset, ulong Size, ulong Offset)
{
    /// <summary>The fixed structure.</summary>
    public const int WireSize = 32;

    /// <summary>VFIO_REGION_INFO_CAP_SPARSE_MMAP.</summary>
    public const ushort SparseMmapCapabilityId = 1;

    /// <summary>The SPARSE_MMAP version served and understood.</summary>
    public const ushort SparseMmapCapabilityVersion = 1;

    /// <summary>Capability header (8) plus nr_areas and reserved (8).</summary>
    public const int SparseMmapHeaderSize = 16;

    private const RegionFlags KnownFlags = RegionFlags.Read | RegionFlags.Write | RegionFlags.Mmap | RegionFlags.Caps;

    /// <summary>Decodes a request: EINVAL for a short payload, an argsz below 32, any fd, or an index past the PCI regions.</summary>
    public static int DecodeRequest(ReadOnlySpan<byte> payload, int fdCount, out uint argsz, out uint index)
    {
        argsz = index = 0;
        if (payload.Length < WireSize || fdCount != 0)
            return Errno.EINVAL;
        argsz = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        index = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        if (argsz < WireSize || index >= RegionIndex.Count)
            return Errno.EINVAL;
        return 0;
    }

    /// <summary>Writes a request for region <paramref name="index"/> accepting up to <paramref name="argsz"/> bytes of reply.</summary>
    public static int EncodeRequest(Span<byte> destination, uint argsz, uint index)
    {
        Wire.Require(destination, WireSize, "GET_REGION_INFO");
        destination[..WireSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, argsz);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], index);
        return WireSize;
    }

    /// <summary>The reply's length for <paramref name="areaCount"/> sparse areas when the client's argsz holds it all.</summary>
    public static int ReplySize(int areaCount) => WireSize + (areaCount == 0 ? 0 : SparseMmapHeaderSize + areaCount * SparseMmapArea.WireSize);

    /// <summary>
    /// Writes the reply to a request with <paramref name="requestArgsz"/>: the structure with argsz =
    /// the size needed, and the SPARSE_MMAP capability (with CAPS) when there are areas and argsz
    /// holds them; when it does not, neither the capability nor CAPS: the client asks again on
    /// argsz alone, and QEMU's vfio-user client (hw/vfio-user/device.c) refuses a reply with CAPS
    /// whose cap_offset is not within [32, argsz] with EINVAL before it looks at argsz (measured
    /// with QEMU 11.1.3: "failed to get region 0 info: Invalid argument"). Returns the reply's length.
    /// </summary>
    public static int EncodeReply(Span<byte> destination, uint requestArgsz, RegionFlags flags, uint index, ulong size, ulong offset, ReadOnlySpan<SparseMmapArea> areas)
    {
        int needed = ReplySize(areas.Length);
        bool withCaps = !areas.IsEmpty && requestArgsz >= needed;
        int length = withCaps ? needed : WireSize;
        Wire.Require(destination, length, "GET_REGION_INFO");
        flags &= ~RegionFlags.Caps;
        if (withCaps)
            flags |= RegionFlags.Caps;
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)needed);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], withCaps ? WireSize : 0u);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], size);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], offset);
        if (withCaps)
        {
            var cap = destination[WireSize..];
            BinaryPrimitives.WriteUInt16LittleEndian(cap, SparseMmapCapabilityId);
            BinaryPrimitives.WriteUInt16LittleEndian(cap[2..], SparseMmapCapabilityVersion);
            BinaryPrimitives.WriteUInt32LittleEndian(cap[4..], 0);   // next: the last capability
            BinaryPrimitives.WriteUInt32LittleEndian(cap[8..], (uint)areas.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(cap[12..], 0);
            for (int i = 0; i < areas.Length; i++)
            {
                var area = cap[(SparseMmapHeaderSize + i * SparseMmapArea.WireSize)..];
                BinaryPrimitives.WriteUInt64LittleEndian(area, areas[i].Offset);
                BinaryPrimitives.WriteUInt64LittleEndian(area[8..], areas[i].Size);
            }
        }
        return length;
    }

    /// <summary>
    /// Decodes a reply that came with <paramref name="fdCount"/> fds. The capability chain is
    /// walked within the payload only, each <c>next</c> strictly forward (so a hostile chain
    /// cannot loop), and the SPARSE_MMAP areas must fit the payload and lie within the region.
    /// EINVAL for a short payload, unknown flags, more than one fd or an fd without MMAP, a
    /// capability offset or next outside the payload or backwards, or a malformed SPARSE_MMAP.
    /// A reply whose argsz exceeds what arrived (the request's argsz was too small) decodes with
    /// no areas: ask again with its argsz.
    /// </summary>
    public static int DecodeReply(ReadOnlySpan<byte> payload, int fdCount, out RegionInfo info, out SparseMmapAreas areas)
    {
        info = default;
        areas = default;
        if (payload.Length < WireSize)
            return Errno.EINVAL;
        info = new RegionInfo(
            BinaryPrimitives.ReadUInt32LittleEndian(payload),
            (RegionFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[24..]));
        if (info.Argsz < WireSize || (info.Flags & ~KnownFlags) != 0 || fdCount is < 0 or > 1 || (fdCount == 1 && (info.Flags & RegionFlags.Mmap) == 0))
            return Errno.EINVAL;
        if ((info.Flags & RegionFlags.Caps) == 0 || info.CapabilityOffset == 0)
            return 0;
        long at = info.CapabilityOffset;
        bool sawSparse = false;
        while (true)
        {
            if (at < WireSize || at > payload.Length - 8)
                return Errno.EINVAL;
            var cap = payload[(int)at..];
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(cap);
            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(cap[2..]);
            uint next = BinaryPrimitives.ReadUInt32LittleEndian(cap[4..]);
            if (id == SparseMmapCapabilityId)
            {
                if (sawSparse || version != SparseMmapCapabilityVersion || cap.Length < SparseMmapHeaderSize)
                    return Errno.EINVAL;
                sawSparse = true;
                uint count = BinaryPrimitives.ReadUInt32LittleEndian(cap[8..]);
                long bytes = (long)count * SparseMmapArea.WireSize;
                if (bytes > cap.Length - SparseMmapHeaderSize)
                    return Errno.EINVAL;
                areas = new SparseMmapAreas(cap.Slice(SparseMmapHeaderSize, (int)bytes));
                for (int i = 0; i < areas.Count; i++)
                {
                    var area = areas[i];
                    if (!Wire.EndFits(area.Offset, area.Size) || area.Offset + area.Size > info.Size)
                    {
                        areas = default;
                        return Errno.EINVAL;
                    }
                }
            }
            // Unknown capabilities are skipped, as VFIO clients do.
            if (next == 0)
                return 0;
            if (next < at + 8)
            {
                areas = default;
                return Errno.EINVAL;
            }
            at = next;
        }
    }
}
