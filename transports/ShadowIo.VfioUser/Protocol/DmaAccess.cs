using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>Which byte layout a DMA_READ/DMA_WRITE uses: the spec's, or the one QEMU's client really speaks.</summary>
internal enum DmaMessageLayout
{
    /// <summary>
    /// vfio-user.rst: address u64 @0, count u64 @8, data @16. A READ request is the 16 bytes, its
    /// reply adds the data; a WRITE request carries the data, its reply is the 16 bytes.
    /// </summary>
    Spec,

    /// <summary>
    /// QEMU's <c>VFIOUserDMARW</c> (hw/vfio-user/protocol.h): offset u64 @0, count <b>u32</b> @8,
    /// data @12, and the C struct's 4 trailing pad bytes counted in every size: QEMU requires
    /// msg_size ≥ 32 (header + 16), replies to a READ with msg_size 32 + count and data at
    /// message offset 28, and takes a WRITE's data from offset 28 with count ≤ msg_size − 32. Its
    /// WRITE reply is the header alone. A spec-true peer and QEMU misread each other here.
    /// </summary>
    Qemu,
}

/// <summary>
/// DMA_READ and DMA_WRITE, server to client: access to client memory that was mapped without an fd.
/// Both layouts of <see cref="DmaMessageLayout"/> encode and decode here, so the server speaks
/// QEMU's to QEMU and the spec's to a spec-true client, and our client can answer either.
/// </summary>
/// <param name="Address">Client (guest physical) address.</param>
/// <param name="Count">Bytes read or written.</param>
internal readonly record struct DmaAccess(ulong Address, ulong Count)
{
    /// <summary>The fixed part in either layout (QEMU's counts its 4 pad bytes).</summary>
    public const int HeaderSize = 16;

    /// <summary>Where the data starts in the payload.</summary>
    public static int DataOffset(DmaMessageLayout layout) => layout == DmaMessageLayout.Qemu ? 12 : HeaderSize;

    /// <summary>The payload's length for <paramref name="dataLength"/> bytes of data.</summary>
    public static int PayloadSize(DmaMessageLayout layout, int dataLength) => HeaderSize + dataLength;

    /// <summary>
    /// Writes a READ request (no data) or a WRITE request (<paramref name="data"/>, count bytes)
    /// and returns the payload's length.
    /// </summary>
    public int EncodeRequest(Span<byte> destination, DmaMessageLayout layout, ReadOnlySpan<byte> data = default)
    {
        if (!data.IsEmpty && (ulong)data.Length != Count)
            throw new ArgumentException($"data has {data.Length} bytes, count says {Count}.", nameof(data));
        if (layout == DmaMessageLayout.Qemu && Count > uint.MaxValue)
            throw new InvalidOperationException("QEMU's DMA count is 32 bits.");
        int length = PayloadSize(layout, data.Length);
        Wire.Require(destination, length, "a DMA access");
        destination[..length].Clear();
        WriteFixed(destination, layout);
        data.CopyTo(destination[DataOffset(layout)..]);
        return length;
    }

    /// <summary>
    /// Decodes a request (the client's side). EINVAL for a short payload, any fd, a zero count or a
    /// wrapping range; E2BIG for a count past max_data_xfer_size; for a WRITE
    /// (<paramref name="isWrite"/>), EINVAL unless the payload holds exactly count bytes of data
    /// (in QEMU's layout: after the 4 pad bytes' worth of slack). <paramref name="data"/> is a WRITE's data, in place.
    /// </summary>
    public static int DecodeRequest(ReadOnlySpan<byte> payload, int fdCount, DmaMessageLayout layout, bool isWrite, in ProtocolLimits limits, out DmaAccess access, out ReadOnlySpan<byte> data)
    {
        access = default;
        data = default;
        if (payload.Length < HeaderSize || fdCount != 0)
            return Errno.EINVAL;
        var decoded = ReadFixed(payload, layout);
        if (decoded.Count == 0 || !Wire.EndFits(decoded.Address, decoded.Count))
            return Errno.EINVAL;
        if (decoded.Count > limits.MaxDataTransferSize)
            return Errno.E2BIG;
        if (isWrite)
        {
            if ((ulong)(payload.Length - HeaderSize) != decoded.Count)
                return Errno.EINVAL;
            data = payload.Slice(DataOffset(layout), (int)decoded.Count);
        }
        access = decoded;
        return 0;
    }

    /// <summary>Writes the reply to a READ (the fixed part and <paramref name="data"/>) or to a WRITE (spec: the fixed part; QEMU: nothing) and returns its length.</summary>
    public int EncodeReply(Span<byte> destination, DmaMessageLayout layout, bool isWrite, ReadOnlySpan<byte> data = default)
    {
        if (isWrite)
        {
            if (layout == DmaMessageLayout.Qemu)
                return 0;
            Wire.Require(destination, HeaderSize, "a DMA reply");
            WriteFixed(destination, layout);
            return HeaderSize;
        }
        return EncodeRequest(destination, layout, data);
    }

    /// <summary>
    /// Decodes the reply to <paramref name="requested"/>. A READ reply must echo address and count
    /// and hold exactly count bytes of data (<paramref name="data"/>, in place); a WRITE reply
    /// must be the echo (spec) or empty (QEMU). EINVAL otherwise.
    /// </summary>
    public static int DecodeReply(ReadOnlySpan<byte> payload, DmaMessageLayout layout, bool isWrite, in DmaAccess requested, out ReadOnlySpan<byte> data)
    {
        data = default;
        if (isWrite)
        {
            if (layout == DmaMessageLayout.Qemu)
                return payload.IsEmpty ? 0 : Errno.EINVAL;
            return payload.Length == HeaderSize && ReadFixed(payload, layout) == requested ? 0 : Errno.EINVAL;
        }
        if (payload.Length < HeaderSize || ReadFixed(payload, layout) != requested || (ulong)(payload.Length - HeaderSize) != requested.Count)
            return Errno.EINVAL;
        data = payload.Slice(DataOffset(layout), (int)requested.Count);
        return 0;
    }

    private void WriteFixed(Span<byte> destination, DmaMessageLayout layout)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Address);
        if (layout == DmaMessageLayout.Qemu)
            BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)Count);
        else
            BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Count);
    }

    private static DmaAccess ReadFixed(ReadOnlySpan<byte> payload, DmaMessageLayout layout) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(payload),
        layout == DmaMessageLayout.Qemu ? BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]) : BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]));
}
