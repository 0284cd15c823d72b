using System.Buffers.Binary;

namespace ShadowIo.Devices.Virtio;

/// <summary>
/// Executes one virtio-blk request (virtio 1.2, section 5.2.6) over a walked descriptor chain.
/// The chain's device-readable bytes, read as one stream whatever the descriptor boundaries
/// (VERSION_1 implies ANY_LAYOUT: the device must not assume a framing), are the 16-byte header
/// and then an OUT request's data; the device-writable bytes are an IN or GET_ID request's data
/// and, last, the status byte.
/// </summary>
/// <remarks>
/// Data moves between the backing store and guest RAM through <see cref="GuestMemory.TryGetSpan"/>
/// spans, piece by piece, so a buffer outside RAM fails its request (VIRTIO_BLK_S_IOERR) and never
/// reaches memory that is not the guest's. A request without a status byte cannot be answered:
/// the device then needs a reset.
/// </remarks>
internal sealed class BlkRequestExecutor(GuestMemory memory, IBlockStorage storage, byte[] deviceId)
{
    /// <summary>A chunk of one segment handed to the store at a time: bounded, whatever length a descriptor claims.</summary>
    private const int MaxPiece = 1 << 20;

    private readonly long _capacityBytes = storage.Length / VirtioBlkConstants.SectorSize * VirtioBlkConstants.SectorSize;

    public long CapacitySectors => _capacityBytes / VirtioBlkConstants.SectorSize;

    public readonly record struct Outcome(VirtioBlkStatus Status, uint Written, VirtioBlkRequestType Type, long DataBytes);

    /// <summary>Runs the request; false when it has no reachable status byte (the caller marks the device NEEDS_RESET).</summary>
    public bool TryExecute(ReadOnlySpan<BufferSegment> segments, out Outcome outcome)
    {
        long readable = 0, writable = 0;
        int firstWritable = segments.Length;
        for (int i = 0; i < segments.Length; i++)
        {
            if (segments[i].DeviceWritable)
            {
                if (firstWritable == segments.Length) firstWritable = i;
                writable += segments[i].Length;
            }
            else readable += segments[i].Length;
        }
        outcome = default;
        if (writable == 0) return false;
        var input = segments[..firstWritable];
        var output = segments[firstWritable..];
        if (!TryLocate(output, writable - 1, out ulong statusAddress)) return false;

        Span<byte> header = stackalloc byte[VirtioBlkConstants.RequestHeaderLength];
        VirtioBlkStatus status;
        long dataBytes = 0;
        uint dataWritten = 0;
        var type = (VirtioBlkRequestType)uint.MaxValue;
        if (readable < header.Length || !TryGather(input, 0, header))
        {
            status = VirtioBlkStatus.IoError;
        }
        else
        {
            type = (VirtioBlkRequestType)BinaryPrimitives.ReadUInt32LittleEndian(header);
            ulong sector = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
            switch (type)
            {
                case VirtioBlkRequestType.In:
                    dataBytes = writable - 1;
                    status = Transfer(output, 0, dataBytes, sector, toGuest: true);
                    if (status == VirtioBlkStatus.Ok) dataWritten = (uint)dataBytes;
                    break;
                case VirtioBlkRequestType.Out:
                    dataBytes = readable - header.Length;
                    status = Transfer(input, header.Length, dataBytes, sector, toGuest: false);
                    break;
                case VirtioBlkRequestType.Flush:
                    status = storage.TryFlush() ? VirtioBlkStatus.Ok : VirtioBlkStatus.IoError;
                    break;
                case VirtioBlkRequestType.GetId:
                    // 5.2.6: the ID string is 20 bytes, NUL-padded; a shorter buffer takes what fits.
                    int idBytes = (int)Math.Min(VirtioBlkConstants.IdBytes, writable - 1);
                    status = TryScatter(output, 0, deviceId.AsSpan(0, idBytes)) ? VirtioBlkStatus.Ok : VirtioBlkStatus.IoError;
                    if (status == VirtioBlkStatus.Ok) dataWritten = (uint)idBytes;
                    break;
                default:
                    status = VirtioBlkStatus.Unsupported;
                    break;
            }
        }
        if (!memory.TryWrite(statusAddress, (byte)status)) return false;
        outcome = new Outcome(status, dataWritten + 1, type, dataBytes);
        return true;
    }

    /// <summary>
    /// Moves <paramref name="length"/> bytes between sectors from <paramref name="sector"/> and the
    /// stream of <paramref name="segments"/> from byte <paramref name="skip"/>. IOERR for a length
    /// that is not whole sectors, a range past the capacity, or a buffer outside RAM.
    /// </summary>
    private VirtioBlkStatus Transfer(ReadOnlySpan<BufferSegment> segments, long skip, long length, ulong sector, bool toGuest)
    {
        if (length % VirtioBlkConstants.SectorSize != 0) return VirtioBlkStatus.IoError;
        if (sector > (ulong)(_capacityBytes / VirtioBlkConstants.SectorSize)) return VirtioBlkStatus.IoError;
        long offset = (long)sector * VirtioBlkConstants.SectorSize;
        if (length > _capacityBytes - offset) return VirtioBlkStatus.IoError;
        foreach (var segment in segments)
        {
            long within = 0;
            if (skip >= segment.Length)
            {
                skip -= segment.Length;
                continue;
            }
            within = skip;
            skip = 0;
            while (within < segment.Length && length > 0)
            {
                int piece = (int)Math.Min(Math.Min(segment.Length - within, length), MaxPiece);
                if (!memory.TryGetSpan(segment.Address + (ulong)within, piece, out var span)) return VirtioBlkStatus.IoError;
                bool ok = toGuest ? storage.TryRead(offset, span) : storage.TryWrite(offset, span);
                if (!ok) return VirtioBlkStatus.IoError;
                offset += piece;
                within += piece;
                length -= piece;
            }
            if (length == 0) break;
        }
        return length == 0 ? VirtioBlkStatus.Ok : VirtioBlkStatus.IoError;
    }

    /// <summary>The guest address of byte <paramref name="position"/> of the segments' stream.</summary>
    private static bool TryLocate(ReadOnlySpan<BufferSegment> segments, long position, out ulong address)
    {
        foreach (var segment in segments)
        {
            if (position < segment.Length)
            {
                address = segment.Address + (ulong)position;
                return true;
            }
            position -= segment.Length;
        }
        address = 0;
        return false;
    }

    private bool TryGather(ReadOnlySpan<BufferSegment> segments, long skip, Span<byte> destination)
    {
        foreach (var segment in segments)
        {
            if (destination.IsEmpty) break;
            if (skip >= segment.Length)
            {
                skip -= segment.Length;
                continue;
            }
            int n = (int)Math.Min(segment.Length - skip, destination.Length);
            if (!memory.TryRead(segment.Address + (ulong)skip, destination[..n])) return false;
            destination = destination[n..];
            skip = 0;
        }
        return destination.IsEmpty;
    }

    private bool TryScatter(ReadOnlySpan<BufferSegment> segments, long skip, ReadOnlySpan<byte> source)
    {
        foreach (var segment in segments)
        {
            if (source.IsEmpty) break;
            if (skip >= segment.Length)
            {
                skip -= segment.Length;
                continue;
            }
            int n = (int)Math.Min(segment.Length - skip, source.Length);
            if (!memory.TryWrite(segment.Address + (ulong)skip, source[..n])) return false;
            source = source[n..];
            skip = 0;
        }
        return source.IsEmpty;
    }
}
