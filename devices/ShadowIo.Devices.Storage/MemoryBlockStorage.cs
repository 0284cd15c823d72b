namespace ShadowIo.Devices.Storage;

/// <summary>
/// A block store held in process memory, allocated in 64 KiB chunks on first write, so a large
/// store that is mostly unwritten costs little. Unwritten blocks read as zeroes.
/// </summary>
public sealed class MemoryBlockStorage : IBlockStorage
{
    private const int ChunkShift = 16;
    private const int ChunkSize = 1 << ChunkShift;
    private readonly byte[]?[] _chunks;

    /// <summary>An all-zero store of <paramref name="length"/> bytes; nothing is allocated until a write.</summary>
    public MemoryBlockStorage(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
        _chunks = new byte[]?[(length + ChunkSize - 1) >> ChunkShift];
    }

    /// <inheritdoc/>
    public long Length { get; }

    /// <inheritdoc/>
    public bool TryRead(long offset, Span<byte> destination)
    {
        if (!InRange(offset, destination.Length)) return false;
        while (!destination.IsEmpty)
        {
            var (chunk, within, n) = Locate(offset, destination.Length);
            var data = _chunks[chunk];
            if (data is null) destination[..n].Clear();
            else data.AsSpan(within, n).CopyTo(destination);
            destination = destination[n..];
            offset += n;
        }
        return true;
    }

    /// <inheritdoc/>
    public bool TryWrite(long offset, ReadOnlySpan<byte> source)
    {
        if (!InRange(offset, source.Length)) return false;
        while (!source.IsEmpty)
        {
            var (chunk, within, n) = Locate(offset, source.Length);
            source[..n].CopyTo((_chunks[chunk] ??= new byte[ChunkSize]).AsSpan(within, n));
            source = source[n..];
            offset += n;
        }
        return true;
    }

    /// <inheritdoc/>
    public bool TryWriteZeroes(long offset, long length)
    {
        if (!InRange(offset, length)) return false;
        while (length > 0)
        {
            var (chunk, within, n) = Locate(offset, (int)Math.Min(length, ChunkSize));
            if (within == 0 && n == ChunkSize) _chunks[chunk] = null;
            else _chunks[chunk]?.AsSpan(within, n).Clear();
            length -= n;
            offset += n;
        }
        return true;
    }

    /// <inheritdoc/>
    public bool TryFlush() => true;

    /// <summary>Nothing to release: the chunks are ordinary managed memory.</summary>
    public void Dispose() { }

    private bool InRange(long offset, long length) => offset >= 0 && length >= 0 && length <= Length - offset;

    private static (long Chunk, int Within, int Count) Locate(long offset, int wanted)
    {
        int within = (int)(offset & (ChunkSize - 1));
        return (offset >> ChunkShift, within, Math.Min(wanted, ChunkSize - within));
    }
}
