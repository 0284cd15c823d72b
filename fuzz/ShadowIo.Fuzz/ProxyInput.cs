using System.Buffers.Binary;
using ShadowIo.Qemu.Protocol;

namespace ShadowIo.Fuzz;

/// <summary>One record of a <see cref="QemuProxyTarget"/> input.</summary>
public readonly ref struct ProxyRecord
{
    public bool IsRamWrite { get; init; }
    public int FdCount { get; init; }
    public int FdRotation { get; init; }
    public int RamIndex { get; init; }
    public int RamOffset { get; init; }
    public ReadOnlySpan<byte> Data { get; init; }
}

/// <summary>Splits a <see cref="QemuProxyTarget"/> input into its records (a short tail is what is left).</summary>
public ref struct ProxyInput(ReadOnlySpan<byte> input)
{
    private readonly ReadOnlySpan<byte> _input = input;
    private int _next;

    public ProxyRecord Current { get; private set; }

    public readonly ProxyInput GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_next >= _input.Length) return false;
        byte ctl = _input[_next++];
        if ((ctl & 0x80) != 0)
        {
            int offset = 16 * (Byte() | Byte() << 8);
            Current = new ProxyRecord { IsRamWrite = true, RamIndex = ctl & 1, RamOffset = offset, Data = Take(Byte()) };
            return true;
        }
        Current = new ProxyRecord { FdCount = ctl & 0x1F, FdRotation = ctl >> 5 & 3, Data = Take(Byte() + 1) };
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

/// <summary>Writes <see cref="QemuProxyTarget"/> inputs: whole QEMU messages, raw bytes, guest RAM.</summary>
internal sealed class ProxyInputBuilder
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];

    /// <summary>Raw stream bytes in one send (split if longer than one record holds), <paramref name="fds"/> pool fds on the first.</summary>
    public ProxyInputBuilder Raw(ReadOnlySpan<byte> data, int fds = 0, int rotation = 0)
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

    public ProxyInputBuilder Message(MpqemuCommand command, ReadOnlySpan<byte> payload, int fds = 0, int rotation = 0)
    {
        Span<byte> message = stackalloc byte[16 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(message, (int)command);
        BinaryPrimitives.WriteUInt64LittleEndian(message[8..], (ulong)payload.Length);
        payload.CopyTo(message[16..]);
        return Raw(message, fds, rotation);
    }

    public ProxyInputBuilder ConfigRead(uint address, int length) => Config(MpqemuCommand.PciConfigRead, address, 0, length);

    public ProxyInputBuilder ConfigWrite(uint address, uint value, int length) => Config(MpqemuCommand.PciConfigWrite, address, value, length);

    private ProxyInputBuilder Config(MpqemuCommand command, uint address, uint value, int length)
    {
        Span<byte> p = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(p, address);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], value);
        BinaryPrimitives.WriteInt32LittleEndian(p[8..], length);
        return Message(command, p);
    }

    public ProxyInputBuilder BarWrite(ulong address, ulong value, uint size) => Bar(MpqemuCommand.BarWrite, address, value, size);

    public ProxyInputBuilder BarRead(ulong address, uint size) => Bar(MpqemuCommand.BarRead, address, 0, size);

    private ProxyInputBuilder Bar(MpqemuCommand command, ulong address, ulong value, uint size)
    {
        Span<byte> p = stackalloc byte[24];
        p.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(p, address);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], value);
        BinaryPrimitives.WriteUInt32LittleEndian(p[16..], size);
        p[20] = 1;
        return Message(command, p);
    }

    /// <summary>SYNC_SYSMEM: (gpa, size, file offset) per region, each with the pool fd at its index (after rotation).</summary>
    public ProxyInputBuilder SyncSysmem(ReadOnlySpan<(ulong Gpa, ulong Size, long Offset)> regions, int rotation = 0)
    {
        Span<byte> p = stackalloc byte[192];
        p.Clear();
        for (int i = 0; i < regions.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(p[(8 * i)..], regions[i].Gpa);
            BinaryPrimitives.WriteUInt64LittleEndian(p[(64 + 8 * i)..], regions[i].Size);
            BinaryPrimitives.WriteInt64LittleEndian(p[(128 + 8 * i)..], regions[i].Offset);
        }
        return Message(MpqemuCommand.SyncSysmem, p, regions.Length, rotation);
    }

    /// <summary>The guest stores <paramref name="data"/> into memfd <paramref name="ram"/> at <paramref name="offset"/> (a multiple of 16).</summary>
    public ProxyInputBuilder RamWrite(int ram, int offset, ReadOnlySpan<byte> data)
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
