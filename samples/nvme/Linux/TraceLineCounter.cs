namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// Counts lines QEMU's log trace backend appended to its <c>-D</c> file so far (only the
/// doorbell trace events are enabled, so lines are doorbell writes). Reads only what is new.
/// </summary>
internal sealed class TraceLineCounter : IDisposable
{
    private readonly string _path;
    private readonly byte[] _buffer = new byte[1 << 16];
    private FileStream? _stream;
    private long _lines;

    public TraceLineCounter(string path) => _path = path;

    public long Count()
    {
        lock (_buffer)
        {
            if (_stream == null)
            {
                if (!File.Exists(_path)) return 0;
                _stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            int n;
            while ((n = _stream.Read(_buffer, 0, _buffer.Length)) > 0)
                _lines += _buffer.AsSpan(0, n).Count((byte)'\n');
            return _lines;
        }
    }

    public void Dispose() => _stream?.Dispose();
}
