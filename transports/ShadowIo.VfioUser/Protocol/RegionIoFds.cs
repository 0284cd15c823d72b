using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>A region IO fd's type. The spec defines 0 and 1; libvfio-user adds 2 for the seed's shadow ioeventfd.</summary>
internal enum IoFdType : uint
{
    /// <summary>VFIO_USER_IO_FD_TYPE_IOEVENTFD: register the fd as a KVM ioeventfd on the range.</summary>
    IoEventFd = 0,
    /// <summary>VFIO_USER_IO_FD_TYPE_IOREGIONFD: the range's accesses go over the fd (user_data in the datamatch slot).</summary>
    IoRegionFd = 1,
    /// <summary>VFIO_USER_IO_FD_TYPE_IOEVENTFD_SHADOW: an ioeventfd whose written value lands in a shadow memfd at shadow_offset.</summary>
    IoEventFdShadow = 2,
}

/// <summary>A region IO fd entry's flags.</summary>
[Flags]
internal enum IoFdFlags : uint
{
    /// <summary>VFIO_USER_IO_FD_FLAG_DATAMATCH: only writes of datamatch signal (ioeventfd types only).</summary>
    DataMatch = 1,
}

/// <summary>
/// One entry of a GET_REGION_IO_FDS reply in libvfio-user's 48-byte layout (every type uses the
/// same stride; the spec's older 40-byte entry has no shadow fields): offset u64 @0, size u64 @8,
/// fd_index u32 @16, type u32 @20, flags u32 @24, shadow_mem_fd_index u32 @28, shadow_offset u64
/// @32, datamatch u64 @40. An IOREGIONFD entry keeps the spec's layout inside the same stride:
/// padding @28, user_data u64 @32 (the shadow_offset slot), nothing @40. Fd indices point into the
/// fds of the reply.
/// </summary>
/// <param name="Offset">Start of the range within the region.</param>
/// <param name="Size">Access width (ioeventfd: 0, 1, 2, 4 or 8) or range length (ioregionfd).</param>
/// <param name="FdIndex">The eventfd (or ioregionfd) among the reply's fds.</param>
/// <param name="Type">What the fd is.</param>
/// <param name="Flags">DATAMATCH.</param>
/// <param name="ShadowFdIndex">IOEVENTFD_SHADOW: the shadow memfd among the reply's fds (0 otherwise).</param>
/// <param name="ShadowOffset">IOEVENTFD_SHADOW: where in the shadow memfd the value lands; IOREGIONFD: user_data; IOEVENTFD: 0.</param>
/// <param name="DataMatch">The value that signals (with DATAMATCH); 0 for IOREGIONFD.</param>
internal readonly record struct RegionIoFdEntry(ulong Offset, ulong Size, uint FdIndex, IoFdType Type, IoFdFlags Flags, uint ShadowFdIndex, ulong ShadowOffset, ulong DataMatch)
{
    /// <summary>libvfio-user's entry stride.</summary>
    public const int WireSize = 48;

    /// <summary>IOREGIONFD's user_data (@32).</summary>
    public ulong UserData => ShadowOffset;
}

/// <summary>The entries of a decoded reply, read in place from the payload.</summary>
internal readonly ref struct RegionIoFdEntries
{
    private readonly ReadOnlySpan<byte> _bytes;

    internal RegionIoFdEntries(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>How many entries arrived (0 when the reply only said how much room they need).</summary>
    public int Count => _bytes.Length / RegionIoFdEntry.WireSize;

    /// <summary>Entry <paramref name="index"/>.</summary>
    public RegionIoFdEntry this[int index] => RegionIoFds.ReadEntry(_bytes.Slice(index * RegionIoFdEntry.WireSize, RegionIoFdEntry.WireSize));
}

/// <summary>
/// GET_REGION_IO_FDS: request argsz u32 @0, flags u32 @4 (0), index u32 @8, count u32 @12 (0);
/// the reply has the same 16 bytes (count = entries) then the entries, argsz = 16 + 48·count.
/// A request whose argsz cannot hold them all gets argsz and count only, without entries or
/// fds (libvfio-user), and asks again.
/// </summary>
internal static class RegionIoFds
{
    /// <summary>The request, and the reply's fixed part.</summary>
    public const int HeaderSize = 16;

    /// <summary>More entries than any device has doorbells (KVM_IO_BUS_MAX_DEVS is 1000 per bus); a count past it is refused.</summary>
    public const int MaxEntries = 1024;

    /// <summary>Decodes a request: EINVAL for a short payload, argsz below 16, nonzero flags or count, any fd, or an index past the PCI regions.</summary>
    public static int DecodeRequest(ReadOnlySpan<byte> payload, int fdCount, out uint argsz, out uint index)
    {
        argsz = index = 0;
        if (payload.Length < HeaderSize || fdCount != 0)
            return Errno.EINVAL;
        argsz = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        index = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]);
        if (argsz < HeaderSize || flags != 0 || count != 0 || index >= RegionIndex.Count)
            return Errno.EINVAL;
        return 0;
    }

    /// <summary>Writes a request.</summary>
    public static int EncodeRequest(Span<byte> destination, uint argsz, uint index)
    {
        Wire.Require(destination, HeaderSize, "GET_REGION_IO_FDS");
        destination[..HeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, argsz);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], index);
        return HeaderSize;
    }

    /// <summary>argsz of a reply with <paramref name="entryCount"/> entries.</summary>
    public static int ReplySize(int entryCount) => HeaderSize + entryCount * RegionIoFdEntry.WireSize;

    /// <summary>
    /// Writes the reply to a request with <paramref name="requestArgsz"/> and returns its length and
    /// whether the entries (and so the fds) go with it: only when argsz holds them all.
    /// </summary>
    public static (int Length, bool WithEntries) EncodeReply(Span<byte> destination, uint requestArgsz, uint index, ReadOnlySpan<RegionIoFdEntry> entries)
    {
        int needed = ReplySize(entries.Length);
        bool withEntries = requestArgsz >= needed;
        int length = withEntries ? needed : HeaderSize;
        Wire.Require(destination, length, "GET_REGION_IO_FDS");
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)needed);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)entries.Length);
        if (withEntries)
        {
            for (int i = 0; i < entries.Length; i++)
                WriteEntry(destination.Slice(HeaderSize + i * RegionIoFdEntry.WireSize, RegionIoFdEntry.WireSize), entries[i]);
        }
        return (length, withEntries);
    }

    /// <summary>
    /// Decodes a reply that came with <paramref name="fdCount"/> fds. EINVAL for a short payload,
    /// nonzero flags, a count past <see cref="MaxEntries"/>, argsz that disagrees with count,
    /// entries that do not fit the payload, fds without entries, and per entry: an unknown type or
    /// flag, an fd index past the fds received, DATAMATCH on an ioregionfd, an ioeventfd width
    /// other than 0/1/2/4/8, a range that wraps, or shadow fields on a type without a shadow.
    /// </summary>
    public static int DecodeReply(ReadOnlySpan<byte> payload, int fdCount, out uint index, out int count, out RegionIoFdEntries entries)
    {
        index = 0;
        count = 0;
        entries = default;
        if (payload.Length < HeaderSize)
            return Errno.EINVAL;
        uint argsz = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        index = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        uint announced = BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]);
        if (flags != 0 || announced > MaxEntries || argsz != ReplySize((int)announced))
            return Errno.EINVAL;
        count = (int)announced;
        var body = payload[HeaderSize..];
        if (body.IsEmpty)
            return fdCount == 0 ? 0 : Errno.EINVAL;   // the size-only answer: no entries, so no fds
        if (body.Length < count * RegionIoFdEntry.WireSize)
            return Errno.EINVAL;
        var received = new RegionIoFdEntries(body[..(count * RegionIoFdEntry.WireSize)]);
        for (int i = 0; i < received.Count; i++)
        {
            int error = Check(received[i], fdCount);
            if (error != 0)
                return error;
        }
        entries = received;
        return 0;
    }

    internal static RegionIoFdEntry ReadEntry(ReadOnlySpan<byte> entry) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(entry),
        BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]),
        (IoFdType)BinaryPrimitives.ReadUInt32LittleEndian(entry[20..]),
        (IoFdFlags)BinaryPrimitives.ReadUInt32LittleEndian(entry[24..]),
        BinaryPrimitives.ReadUInt32LittleEndian(entry[28..]),
        BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]),
        BinaryPrimitives.ReadUInt64LittleEndian(entry[40..]));

    private static void WriteEntry(Span<byte> destination, in RegionIoFdEntry entry)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, entry.Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], entry.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], entry.FdIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], (uint)entry.Type);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], (uint)entry.Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], entry.ShadowFdIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], entry.ShadowOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[40..], entry.DataMatch);
    }

    private static int Check(in RegionIoFdEntry entry, int fdCount)
    {
        if ((entry.Flags & ~IoFdFlags.DataMatch) != 0 || entry.FdIndex >= (uint)fdCount || !Wire.EndFits(entry.Offset, entry.Size))
            return Errno.EINVAL;
        switch (entry.Type)
        {
            case IoFdType.IoEventFd:
            case IoFdType.IoEventFdShadow:
                if (entry.Size is not (0 or 1 or 2 or 4 or 8))
                    return Errno.EINVAL;
                if (entry.Type == IoFdType.IoEventFdShadow ? entry.ShadowFdIndex >= (uint)fdCount : entry.ShadowFdIndex != 0 || entry.ShadowOffset != 0)
                    return Errno.EINVAL;
                return 0;
            case IoFdType.IoRegionFd:
                return (entry.Flags & IoFdFlags.DataMatch) != 0 || entry.ShadowFdIndex != 0 || entry.DataMatch != 0 ? Errno.EINVAL : 0;
            default:
                return Errno.EINVAL;
        }
    }
}
