using ShadowIo;

namespace ShadowIo.KernelGuest;

/// <summary>
/// The block the nested guest rings: NVMe-like SQ-tail/CQ-head doorbell arrays (stride 8), value
/// doorbells of every width KVM accepts (8, 2, 1 bytes besides the 4-byte arrays), and two
/// notify-only doorbells, one with a datamatch; plus ordinary registers so the same run checks
/// that non-doorbell MMIO still reaches the generated dispatch.
/// </summary>
[RegisterBlock("Kernel post-write test BAR", 0x2000)]
[DoorbellArray("SqTail", 0x1000, 4, QueueCount, 8)]
[DoorbellArray("CqHead", 0x1004, 4, QueueCount, 8)]
[Doorbell("Wide", 0x1040, 8)]
[Doorbell("Half", 0x1048, 2)]
[Doorbell("Tiny", 0x104C, 1)]
[NotifyDoorbell("Kick", 0x1800, 4, DataMatch = KickDataMatch)]
[NotifyDoorbell("Poke", 0x1808, 2)]
public sealed partial class DoorbellTestBlock
{
    public const int QueueCount = 4;
    public const ulong KickDataMatch = 0x5A;

    [Register(0x00, 8, Access = RegisterAccess.ReadOnly, Reset = 0x0000_0020_0000_00FF)]
    public partial ulong Cap { get; set; }

    [Register(0x14, 4)]
    public partial uint Control { get; set; }

    [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint Status { get; set; }

    /// <summary>Doorbell writes that reached dispatch instead of a binding (datamatch misses).</summary>
    public List<(int Row, ulong Value)> Dispatched { get; } = [];

    // Ready follows enable, as NVMe CSTS.RDY follows CC.EN.
    partial void OnControlWritten(uint previous, uint value) => Status = value & 1;

    partial void OnDoorbellWritten(int row, ulong value) => Dispatched.Add((row, value));
}
