namespace ShadowIo.Devices.Storage;

/// <summary>
/// A device's backing store: an NVMe namespace, a virtio-blk disk. Offsets and lengths are in
/// bytes and already checked by the device against <see cref="Length"/>; a false return becomes
/// the device's own error status (NVMe: a media error; virtio-blk: VIRTIO_BLK_S_IOERR).
/// </summary>
public interface IBlockStorage : IDisposable
{
    /// <summary>Capacity in bytes (a multiple of the device's block size).</summary>
    long Length { get; }

    /// <summary>Fills <paramref name="destination"/> from byte <paramref name="offset"/>; false is a read error (NVMe: Unrecovered Read Error).</summary>
    bool TryRead(long offset, Span<byte> destination);

    /// <summary>Writes <paramref name="source"/> at byte <paramref name="offset"/>; false is a write error (NVMe: Write Fault).</summary>
    bool TryWrite(long offset, ReadOnlySpan<byte> source);

    /// <summary>Makes <paramref name="length"/> bytes from <paramref name="offset"/> read as zeroes (NVMe Write Zeroes, virtio-blk WRITE_ZEROES); false is a write error.</summary>
    bool TryWriteZeroes(long offset, long length);

    /// <summary>Makes earlier writes durable (NVMe Flush, virtio-blk FLUSH).</summary>
    bool TryFlush();
}
