namespace ShadowIo.Samples.Nvme;

/// <summary>
/// A memory namespace that records every write and write-zeroes range, so the fuzzer can check
/// that no data landed outside the LBA range of a command the controller fetched.
/// </summary>
internal sealed class RecordingStorage(long length) : INamespaceStorage
{
    private readonly MemoryNamespaceStorage _inner = new(length);

    public List<(long Offset, long Length)> Writes { get; } = [];

    public long Length => _inner.Length;

    public bool TryRead(long offset, Span<byte> destination) => _inner.TryRead(offset, destination);

    public bool TryWrite(long offset, ReadOnlySpan<byte> source)
    {
        Writes.Add((offset, source.Length));
        return _inner.TryWrite(offset, source);
    }

    public bool TryWriteZeroes(long offset, long length)
    {
        Writes.Add((offset, length));
        return _inner.TryWriteZeroes(offset, length);
    }

    public bool TryFlush() => true;

    public void Dispose() => _inner.Dispose();
}
