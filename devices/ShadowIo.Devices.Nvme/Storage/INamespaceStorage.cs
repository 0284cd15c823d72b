namespace ShadowIo.Devices.Nvme;

/// <summary>
/// Backing store of the one namespace. Offsets and lengths are in bytes and already checked
/// by the controller against <see cref="Length"/>; a false return becomes a media error status.
/// </summary>
public interface INamespaceStorage : IDisposable
{
    /// <summary>Capacity in bytes (a multiple of the LBA size).</summary>
    long Length { get; }

    bool TryRead(long offset, Span<byte> destination);

    bool TryWrite(long offset, ReadOnlySpan<byte> source);

    bool TryWriteZeroes(long offset, long length);

    /// <summary>Makes earlier writes durable (Flush).</summary>
    bool TryFlush();
}
