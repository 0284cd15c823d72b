using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>One write of a WRITE_MULTI, read in place: where, and its 1 to 8 bytes.</summary>
/// <param name="Access">Offset, region, count.</param>
/// <param name="Data">The count bytes.</param>
internal readonly ref struct MultiWrite(RegionAccess Access, ReadOnlySpan<byte> Data)
{
    /// <summary>Offset, region, count.</summary>
    public RegionAccess Access { get; } = Access;

    /// <summary>The bytes written.</summary>
    public ReadOnlySpan<byte> Data { get; } = Data;
}

/// <summary>The writes of a decoded WRITE_MULTI, read in place from the payload.</summary>
internal readonly ref struct MultiWrites
{
    private readonly ReadOnlySpan<byte> _entries;

    internal MultiWrites(ReadOnlySpan<byte> entries) => _entries = entries;

    /// <summary>How many writes.</summary>
    public int Count => _entries.Length / RegionWriteMulti.EntrySize;

    /// <summary>Write <paramref name="index"/>, in order (they are applied in order).</summary>
    public MultiWrite this[int index]
    {
        get
        {
            var entry = _entries.Slice(index * RegionWriteMulti.EntrySize, RegionWriteMulti.EntrySize);
            var access = new RegionAccess(BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]), BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]));
            return new MultiWrite(access, entry.Slice(RegionAccess.HeaderSize, (int)access.Count));
        }
    }
}

/// <summary>
/// REGION_WRITE_MULTI (vfio-user.rst): wr_cnt u64 @0, then wr_cnt entries of 24 bytes {offset u64,
/// region u32, count u32 (≤ 8), data[8]}; the reply is wr_cnt u64, the writes completed. QEMU
/// sends it only to a server that offered write_multiple, batching at most 200 (VFIO_USER_MULTI_MAX).
/// </summary>
internal static class RegionWriteMulti
{
    /// <summary>One entry.</summary>
    public const int EntrySize = 24;

    /// <summary>The largest data of one entry.</summary>
    public const int MaxEntryData = 8;

    /// <summary>QEMU's VFIO_USER_MULTI_MAX; a count past it is refused.</summary>
    public const int MaxEntries = 200;

    /// <summary>
    /// Decodes a request. EINVAL for any fd, a payload shorter than wr_cnt or not exactly wr_cnt
    /// entries, wr_cnt 0 or past <see cref="MaxEntries"/>, and per entry: an index past the PCI
    /// regions, count 0 or past 8, a range that wraps.
    /// </summary>
    public static int DecodeRequest(ReadOnlySpan<byte> payload, int fdCount, out MultiWrites writes)
    {
        writes = default;
        if (payload.Length < sizeof(ulong) || fdCount != 0)
            return Errno.EINVAL;
        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        if (count is 0 or > MaxEntries || payload.Length - sizeof(ulong) != (long)count * EntrySize)
            return Errno.EINVAL;
        var decoded = new MultiWrites(payload[sizeof(ulong)..]);
        for (int i = 0; i < decoded.Count; i++)
        {
            var entry = payload.Slice(sizeof(ulong) + i * EntrySize, EntrySize);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(entry);
            uint region = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
            uint bytes = BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]);
            if (region >= RegionIndex.Count || bytes is 0 or > MaxEntryData || !Wire.EndFits(offset, bytes))
                return Errno.EINVAL;
        }
        writes = decoded;
        return 0;
    }

    /// <summary>Writes a request of <paramref name="accesses"/> with their data (at most 8 bytes each, concatenated in <paramref name="data"/>).</summary>
    public static int EncodeRequest(Span<byte> destination, ReadOnlySpan<RegionAccess> accesses, ReadOnlySpan<byte> data)
    {
        int length = sizeof(ulong) + accesses.Length * EntrySize;
        Wire.Require(destination, length, "REGION_WRITE_MULTI");
        BinaryPrimitives.WriteUInt64LittleEndian(destination, (ulong)accesses.Length);
        int at = 0;
        for (int i = 0; i < accesses.Length; i++)
        {
            var a = accesses[i];
            if (a.Count is 0 or > MaxEntryData)
                throw new ArgumentException($"write {i} has {a.Count} bytes; WRITE_MULTI carries 1 to {MaxEntryData}.", nameof(accesses));
            var entry = destination.Slice(sizeof(ulong) + i * EntrySize, EntrySize);
            entry.Clear();
            a.Encode(entry, data.Slice(at, (int)a.Count));
            at += (int)a.Count;
        }
        return length;
    }

    /// <summary>Writes the reply: how many writes completed.</summary>
    public static int EncodeReply(Span<byte> destination, ulong completed)
    {
        Wire.Require(destination, sizeof(ulong), "REGION_WRITE_MULTI");
        BinaryPrimitives.WriteUInt64LittleEndian(destination, completed);
        return sizeof(ulong);
    }

    /// <summary>Decodes the reply: EINVAL unless it is 8 bytes and no more writes than were sent.</summary>
    public static int DecodeReply(ReadOnlySpan<byte> payload, int sent, out ulong completed)
    {
        completed = 0;
        if (payload.Length != sizeof(ulong))
            return Errno.EINVAL;
        completed = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        return completed <= (ulong)sent ? 0 : Errno.EINVAL;
    }
}
