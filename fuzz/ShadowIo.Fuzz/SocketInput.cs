namespace ShadowIo.Fuzz;

/// <summary>One record of a socket-stream input (<see cref="SocketInput"/>).</summary>
public readonly ref struct SocketRecord
{
    public bool IsRamWrite { get; init; }
    public int FdCount { get; init; }
    public int FdRotation { get; init; }
    public int RamIndex { get; init; }
    public int RamOffset { get; init; }
    public ReadOnlySpan<byte> Data { get; init; }
}

/// <summary>
/// Splits the input of a target that replays a peer's stream onto a socket (the vfio-user
/// targets) into its records; a short tail is what is left.
/// </summary>
/// <remarks>
/// A control byte with bit 7 clear is a send: <c>len + 1</c> raw stream bytes (the next byte is
/// <c>len</c>) in one sendmsg, any framing or none, with <c>ctl &amp; 0x1F</c> fds from the
/// target's pool starting at rotation <c>ctl &gt;&gt; 5 &amp; 3</c>. With bit 7 set it is a RAM
/// write: into memfd <c>ctl &amp; 1</c> at 16 × (next two bytes, little-endian), <c>len</c>
/// bytes (the byte after). The vfio-user corpora were written in this format.
/// </remarks>
public ref struct SocketInput(ReadOnlySpan<byte> input)
{
    private readonly ReadOnlySpan<byte> _input = input;
    private int _next;

    public SocketRecord Current { get; private set; }

    public readonly SocketInput GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_next >= _input.Length) return false;
        byte ctl = _input[_next++];
        if ((ctl & 0x80) != 0)
        {
            int offset = 16 * (Byte() | Byte() << 8);
            Current = new SocketRecord { IsRamWrite = true, RamIndex = ctl & 1, RamOffset = offset, Data = Take(Byte()) };
            return true;
        }
        Current = new SocketRecord { FdCount = ctl & 0x1F, FdRotation = ctl >> 5 & 3, Data = Take(Byte() + 1) };
        return true;
    }

    private int Byte() => _next < _input.Length ? _input[_next++] : 0;

    private ReadOnlySpan<byte> Take(int count)
    {
        int n = Math.Min(count, _input.Length - _next);
        var data = _input.Slice(_next, n);
        _next += n;
        return data;
    }
}

/// <summary>Writes <see cref="SocketInput"/> inputs: stream bytes with fds, guest RAM.</summary>
internal sealed class SocketInputBuilder
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];

    /// <summary>Raw stream bytes in one send (split if longer than one record holds), <paramref name="fds"/> pool fds on the first.</summary>
    public SocketInputBuilder Raw(ReadOnlySpan<byte> data, int fds = 0, int rotation = 0)
    {
        do
        {
            int n = Math.Min(data.Length, 256);
            _bytes.Add((byte)((fds & 0x1F) | (rotation & 3) << 5));
            _bytes.Add((byte)(n - 1));
            _bytes.AddRange(data[..n]);
            data = data[n..];
            fds = 0;
        }
        while (data.Length > 0);
        return this;
    }

    /// <summary>The guest stores <paramref name="data"/> into memfd <paramref name="ram"/> at <paramref name="offset"/> (a multiple of 16).</summary>
    public SocketInputBuilder RamWrite(int ram, int offset, ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            int n = Math.Min(data.Length, 240);
            _bytes.Add((byte)(0x80 | (ram & 1)));
            _bytes.Add((byte)(offset / 16));
            _bytes.Add((byte)(offset / 16 >> 8));
            _bytes.Add((byte)n);
            _bytes.AddRange(data[..n]);
            data = data[n..];
            offset += n;
        }
        return this;
    }
}
