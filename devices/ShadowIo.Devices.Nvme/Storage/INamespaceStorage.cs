namespace ShadowIo.Devices.Nvme;

/// <summary>
/// Backing store of the one namespace. Offsets and lengths are in bytes and already checked
/// by the controller against <see cref="Length"/>; a false return becomes a media error status.
/// </summary>
public interface INamespaceStorage : IDisposable
{
    /// <summary>Capacity in bytes (a multiple of the LBA size).</summary>
    long Length { get; }

    /// <summary>Fills <paramref name="destination"/> from byte <paramref name="offset"/>; false is an Unrecovered Read Error.</summary>
    bool TryRead(long offset, Span<byte> destination);

    /// <summary>Writes <paramref name="source"/> at byte <paramref name="offset"/>; false is a Write Fault.</summary>
    bool TryWrite(long offset, ReadOnlySpan<byte> source);

    /// <summary>Makes <paramref name="length"/> bytes from <paramref name="offset"/> read as zeroes (Write Zeroes); false is a Write Fault.</summary>
    bool TryWriteZeroes(long offset, long length);

    /// <summary>Makes earlier writes durable (Flush).</summary>
    bool TryFlush();
}
