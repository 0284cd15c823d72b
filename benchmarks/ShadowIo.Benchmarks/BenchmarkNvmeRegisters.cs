using ShadowIo;

namespace ShadowIo.Benchmarks;

/// <summary>
/// The NVMe doorbell layout the typed-reader benchmark reads (64 SQ tails and 64 CQ heads,
/// DSTRD = 0), and CC and CSTS for the MMIO dispatch benchmark.
/// </summary>
[RegisterBlock("NVMe BAR0 (benchmark)", 0x2000)]
[DoorbellArray("SQ tail", 0x1000, 4, 64, 8)]
[DoorbellArray("CQ head", 0x1004, 4, 64, 8)]
[Doorbell("spare", 0x1800, 4)]
public sealed partial class BenchmarkNvmeRegisters
{
    [Register(0x14, 4)]
    [Field("EN", 0, 1)]
    [Field("IOSQES", 16, 4)]
    public partial uint Cc { get; set; }

    [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
    [Field("RDY", 0, 1, Access = FieldAccess.ReadOnly)]
    [Field("CFS", 1, 1, Access = FieldAccess.ReadOnly)]
    [Field("NSSRO", 4, 1, Access = FieldAccess.WriteOneToClear)]
    public partial uint Csts { get; set; }
}
