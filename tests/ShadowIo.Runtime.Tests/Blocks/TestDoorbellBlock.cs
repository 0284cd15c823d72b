namespace ShadowIo.Runtime.Tests.Blocks;

/// <summary>
/// A small NVMe-like block: three ordinary registers, SQ-tail/CQ-head doorbell arrays (stride 8,
/// like NVMe with DSTRD = 0), one 8-byte value doorbell and two notify-only doorbells, one with
/// a datamatch. Shadow offsets follow the generator's rule (offset − lowest value-doorbell offset).
/// </summary>
/// <remarks>Hand-written stand-in with the generator's member names until the generator lands.</remarks>
public sealed class TestDoorbellBlock : IRegisterBlock
{
    public const ulong BlockSize = 0x2000;
    public const ulong CapOffset = 0x00, ControlOffset = 0x14, StatusOffset = 0x1C;
    public const ulong CapReset = 0x0000_0020_0000_00FF;

    public static class DoorbellIndex
    {
        public const int SqTail = 0, CqHead = 4, Wide = 8, Kick = 9, Poke = 10;
    }

    public static class ShadowLayout
    {
        public const int Size = 0x48;
        public const int SqTail = 0, SqTailStride = 8, CqHead = 4, CqHeadStride = 8, Wide = 0x40;
    }

    public const ulong KickDataMatch = 0x5A;

    public static DoorbellTable DoorbellTable { get; } = BuildTable();

    private static DoorbellTable BuildTable()
    {
        var rows = new List<DoorbellEntry>();
        for (int i = 0; i < 4; i++) rows.Add(new("SqTail", i, 0x1000 + (ulong)i * 8, 4, DoorbellKind.Value, false, 0, i * 8));
        for (int i = 0; i < 4; i++) rows.Add(new("CqHead", i, 0x1004 + (ulong)i * 8, 4, DoorbellKind.Value, false, 0, 4 + i * 8));
        rows.Add(new("Wide", 0, 0x1040, 8, DoorbellKind.Value, false, 0, 0x40));
        rows.Add(new("Kick", 0, 0x1800, 4, DoorbellKind.Notify, true, KickDataMatch, -1));
        rows.Add(new("Poke", 0, 0x1808, 2, DoorbellKind.Notify, false, 0, -1));
        return new DoorbellTable("Test BAR", BlockSize, ShadowLayout.Size, [.. rows]);
    }

    public ulong Cap { get; set; } = CapReset;
    public uint Control { get; set; }
    public uint Status { get; set; }

    /// <summary>Doorbell writes that reached dispatch instead of a binding (OnDoorbellWritten).</summary>
    public List<(int Row, ulong Value)> DispatchedDoorbells { get; } = [];

    public ulong ReadMmio(ulong offset, int size) => offset switch
    {
        CapOffset when size == 8 => Cap,
        CapOffset when size == 4 => (uint)Cap,
        CapOffset + 4 when size == 4 => Cap >> 32,
        ControlOffset when size == 4 => Control,
        StatusOffset when size == 4 => Status,
        _ => 0,
    };

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        if (offset == ControlOffset && size == 4)
        {
            Control = (uint)value;
            Status = (uint)value & 1; // ready follows enable
        }
        else if (DoorbellTable.TryFind(offset, out int row)) DispatchedDoorbells.Add((row, value));
    }

    public void ResetRegisters()
    {
        Cap = CapReset;
        Control = 0;
        Status = 0;
    }

    /// <summary>Typed, volatile reads of the shadow layout.</summary>
    public readonly struct DoorbellReader
    {
        private readonly ShadowRegion _region;

        public DoorbellReader(ShadowRegion region)
        {
            if (region.Length < ShadowLayout.Size) throw new ArgumentException("Shadow region too short.", nameof(region));
            _region = region;
        }

        public uint SqTail(int index) => (uint)index < 4 ? _region.ReadUInt32(ShadowLayout.SqTail + index * ShadowLayout.SqTailStride) : throw new ArgumentOutOfRangeException(nameof(index));
        public uint CqHead(int index) => (uint)index < 4 ? _region.ReadUInt32(ShadowLayout.CqHead + index * ShadowLayout.CqHeadStride) : throw new ArgumentOutOfRangeException(nameof(index));
        public ulong Wide => _region.ReadUInt64(ShadowLayout.Wide);
    }
}
