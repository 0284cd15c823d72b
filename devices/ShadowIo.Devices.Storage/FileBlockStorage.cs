using Microsoft.Win32.SafeHandles;

namespace ShadowIo.Devices.Storage;

/// <summary>
/// A block store backed by a file, created sparse when it does not exist (<see cref="File.OpenHandle"/>
/// with a preallocation of zero, then the length set: the file system allocates blocks on write).
/// I/O errors become false returns (the device's error status), never exceptions reaching the guest path.
/// </summary>
public sealed class FileBlockStorage : IBlockStorage
{
    private readonly SafeFileHandle _handle;
    private readonly byte[] _zeroes = new byte[64 * 1024];

    private FileBlockStorage(SafeFileHandle handle, long length)
    {
        _handle = handle;
        Length = length;
    }

    /// <inheritdoc/>
    public long Length { get; }

    /// <summary>
    /// Opens <paramref name="path"/>; with <paramref name="length"/> given, creates or extends it to
    /// that many bytes, otherwise uses the file's length. Throws <see cref="IOException"/> or
    /// <see cref="UnauthorizedAccessException"/> with the reason when the file is unusable.
    /// </summary>
    public static FileBlockStorage Open(string path, long? length = null)
    {
        var handle = File.OpenHandle(path, length is null ? FileMode.Open : FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            long size = RandomAccess.GetLength(handle);
            if (length is long wanted && size < wanted)
            {
                RandomAccess.SetLength(handle, wanted);
                size = wanted;
            }
            else if (length is long exact)
            {
                size = exact;
            }
            if (size <= 0) throw new IOException($"Backing file '{path}' is empty.");
            return new FileBlockStorage(handle, size);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public bool TryRead(long offset, Span<byte> destination)
    {
        try
        {
            int total = 0;
            while (total < destination.Length)
            {
                int n = RandomAccess.Read(_handle, destination[total..], offset + total);
                if (n <= 0)
                {
                    destination[total..].Clear(); // Past the end of a short file: zeroes.
                    break;
                }
                total += n;
            }
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public bool TryWrite(long offset, ReadOnlySpan<byte> source)
    {
        try
        {
            RandomAccess.Write(_handle, source, offset);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public bool TryWriteZeroes(long offset, long length)
    {
        while (length > 0)
        {
            int n = (int)Math.Min(length, _zeroes.Length);
            if (!TryWrite(offset, _zeroes.AsSpan(0, n))) return false;
            offset += n;
            length -= n;
        }
        return true;
    }

    /// <inheritdoc/>
    public bool TryFlush()
    {
        try
        {
            RandomAccess.FlushToDisk(_handle);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _handle.Dispose();
}
