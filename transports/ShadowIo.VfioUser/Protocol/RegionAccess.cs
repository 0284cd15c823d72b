using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>
/// REGION_READ and REGION_WRITE (vfio-user.rst): offset u64 @0, region u32 @8, count u32 @12,
/// data @16. A read request is the 16 bytes and its reply adds count bytes of data (count must
/// equal the request's); a write request carries the data and its reply is the 16 bytes alone.
/// Memory-BAR writes from QEMU come posted (NO_REPLY) unless a region offers MMAP.
/// </summary>
/// <param name="Offset">Offset within the region.</param>
/// <param name="Region">Region index.</param>
/// <param name="Count">Bytes read or written.</param>
internal readonly record struct RegionAccess(ulong Offset, uint Region, uint Count)
{
    /// <summary>The fixed part; data follows.</summary>
    public const int HeaderSize = 16;

    /// <summary>
    /// Decodes a READ request. EINVAL for a short payload, any fd, an index past the PCI regions,
    /// a zero count or a range that wraps; E2BIG for a count past <paramref name="limits"/>'
    /// max_data_xfer_size (as QEMU answers an oversized DMA read). Whether the range lies inside
    /// the region is the region's to check.
    /// </summary>
    public static int DecodeReadRequest(ReadOnlySpan<byte> payload, int fdCount, in ProtocolLimits limits, out RegionAccess access)
    {
        access = default;
        if (payload.Length < HeaderSize || fdCount != 0)
            return Errno.EINVAL;
        access = Read(payload);
        int error = Check(access, limits);
        if (error != 0)
            access = default;
        return error;
    }

    /// <summary>
    /// Decodes a WRITE request; <paramref name="data"/> is its count bytes, in place. As
    /// <see cref="DecodeReadRequest"/>, and EINVAL unless the payload holds exactly count bytes of data.
    /// </summary>
    public static int DecodeWriteRequest(ReadOnlySpan<byte> payload, int fdCount, in ProtocolLimits limits, out RegionAccess access, out ReadOnlySpan<byte> data)
    {
        access = default;
        data = default;
        if (payload.Length < HeaderSize || fdCount != 0)
            return Errno.EINVAL;
        var decoded = Read(payload);
        int error = Check(decoded, limits);
        if (error != 0)
            return error;
        if (payload.Length - HeaderSize != decoded.Count)
            return Errno.EINVAL;
        access = decoded;
        data = payload.Slice(HeaderSize, (int)decoded.Count);
        return 0;
    }

    /// <summary>
    /// Decodes the reply to a READ of <paramref name="requested"/>: EINVAL unless offset, region and
    /// count echo the request and exactly count bytes of data follow.
    /// </summary>
    public static int DecodeReadReply(ReadOnlySpan<byte> payload, in RegionAccess requested, out ReadOnlySpan<byte> data)
    {
        data = default;
        if (payload.Length < HeaderSize || Read(payload) != requested || payload.Length - HeaderSize != requested.Count)
            return Errno.EINVAL;
        data = payload[HeaderSize..];
        return 0;
    }

    /// <summary>Decodes the reply to a WRITE: EINVAL unless it is the 16 bytes echoing <paramref name="requested"/>.</summary>
    public static int DecodeWriteReply(ReadOnlySpan<byte> payload, in RegionAccess requested) =>
        payload.Length == HeaderSize && Read(payload) == requested ? 0 : Errno.EINVAL;

    /// <summary>Writes the 16 bytes followed by <paramref name="data"/> (a WRITE request, a READ reply) and returns the length.</summary>
    public int Encode(Span<byte> destination, ReadOnlySpan<byte> data = default)
    {
        if (!data.IsEmpty && data.Length != Count)
            throw new ArgumentException($"data has {data.Length} bytes, count says {Count}.", nameof(data));
        int length = HeaderSize + data.Length;
        Wire.Require(destination, length, "a region access");
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Region);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], Count);
        data.CopyTo(destination[HeaderSize..]);
        return length;
    }

    private static RegionAccess Read(ReadOnlySpan<byte> payload) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(payload),
        BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]));

    private static int Check(in RegionAccess access, in ProtocolLimits limits)
    {
        if (access.Region >= RegionIndex.Count || access.Count == 0 || !Wire.EndFits(access.Offset, access.Count))
            return Errno.EINVAL;
        return access.Count > limits.MaxDataTransferSize ? Errno.E2BIG : 0;
    }
}
