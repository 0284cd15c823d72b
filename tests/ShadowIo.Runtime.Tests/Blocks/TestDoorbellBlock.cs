namespace ShadowIo.Runtime.Tests.Blocks;

/// <summary>
/// A small NVMe-like block declared for the generator: three ordinary registers, SQ-tail/CQ-head
/// doorbell arrays (stride 8, like NVMe with DSTRD = 0), one 8-byte value doorbell and two
/// notify-only doorbells, one with a datamatch. The generator emits the doorbell table (rows in
/// declaration order: SqTail 0-3, CqHead 4-7, Wide 8, Kick 9, Poke 10), the shadow layout
/// (offset − 0x1000), the typed DoorbellReader and the MMIO dispatch the tests drive.
/// </summary>
[RegisterBlock("Test BAR", 0x2000)]
[DoorbellArray("SqTail", 0x1000, 4, 4, 8)]
[DoorbellArray("CqHead", 0x1004, 4, 4, 8)]
[Doorbell("Wide", 0x1040, 8)]
[NotifyDoorbell("Kick", 0x1800, 4, DataMatch = KickDataMatch)]
[NotifyDoorbell("Poke", 0x1808, 2)]
public sealed partial class TestDoorbellBlock
{
    public const ulong CapReset = 0x0000_0020_0000_00FF;
    public const ulong KickDataMatch = 0x5A;

    [Register(0x00, 8, Access = RegisterAccess.ReadOnly, Reset = CapReset)]
    public partial ulong Cap { get; set; }

    [Register(0x14, 4)]
    public partial uint Control { get; set; }

    /// <summary>Ready follows enable (Control bit 0), like NVMe CSTS.RDY after CC.EN.</summary>
    [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint Status { get; set; }

    public TestDoorbellBlock() => ResetRegisters();

    /// <summary>Doorbell writes that reached dispatch instead of a binding.</summary>
    public List<(int Row, ulong Value)> DispatchedDoorbells { get; } = [];

    partial void OnControlWritten(uint previous, uint value) => Status = value & 1;

    partial void OnDoorbellWritten(int row, ulong value) => DispatchedDoorbells.Add((row, value));
}
