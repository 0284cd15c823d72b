using ShadowIo.Devices.Storage;

namespace ShadowIo.Fuzz.Nvme;

/// <summary>The three namespace accesses a command can make.</summary>
internal enum NamespaceAccess
{
    Read,
    Write,
    WriteZeroes,
}

/// <summary>
/// Called for every namespace access as it happens (on the controller's thread, under its lock):
/// <paramref name="data"/> is what a Read returned or what a Write stores (empty for Write Zeroes).
/// </summary>
internal delegate void NamespaceAccessObserver(NamespaceAccess access, long offset, long length, ReadOnlySpan<byte> data);

/// <summary>
/// A memory namespace that records every write and write-zeroes range, and reports each access
/// to an observer, so the fuzzer can check every namespace access against the command that made it.
/// </summary>
internal sealed class RecordingStorage(long length) : IBlockStorage
{
    private readonly MemoryBlockStorage _inner = new(length);

    public List<(long Offset, long Length)> Writes { get; } = [];

    /// <summary>Sees every access the controller makes (not <see cref="TryReadUnrecorded"/>).</summary>
    public NamespaceAccessObserver? Observer { get; set; }

    public long Length => _inner.Length;

    public bool TryRead(long offset, Span<byte> destination)
    {
        bool read = _inner.TryRead(offset, destination);
        Observer?.Invoke(NamespaceAccess.Read, offset, destination.Length, read ? destination : default);
        return read;
    }

    /// <summary>The host looking at the namespace itself (a round trip's check): no command made this access.</summary>
    public bool TryReadUnrecorded(long offset, Span<byte> destination) => _inner.TryRead(offset, destination);

    public bool TryWrite(long offset, ReadOnlySpan<byte> source)
    {
        Writes.Add((offset, source.Length));
        Observer?.Invoke(NamespaceAccess.Write, offset, source.Length, source);
        return _inner.TryWrite(offset, source);
    }

    public bool TryWriteZeroes(long offset, long length)
    {
        Writes.Add((offset, length));
        Observer?.Invoke(NamespaceAccess.WriteZeroes, offset, length, default);
        return _inner.TryWriteZeroes(offset, length);
    }

    public bool TryFlush() => true;

    public void Dispose() => _inner.Dispose();
}
