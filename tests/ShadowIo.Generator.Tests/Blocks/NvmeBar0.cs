namespace ShadowIo.Generator.Tests.Blocks;

/// <summary>NVMe controller register values of CC.SHN (NVMe base spec 2.0, figure 41).</summary>
public enum ShutdownNotification : byte
{
    None = 0,
    Normal = 1,
    Abrupt = 2,
}

/// <summary>
/// NVMe BAR0 (NVMe base spec 2.0 §3.1.4) with CAP.DSTRD = 0: SQ y tail doorbell at
/// 0x1000 + 8y, CQ y head doorbell at 0x1004 + 8y.
/// </summary>
[RegisterBlock("NVMe BAR0", 0x2000)]
[DoorbellArray("SQ tail", 0x1000, 4, 64, 8)]
[DoorbellArray("CQ head", 0x1004, 4, 64, 8)]
public sealed partial class NvmeBar0
{
    [Register(0x00, 8, Access = RegisterAccess.ReadOnly)]
    [Field("MQES", 0, 16, Access = FieldAccess.ReadOnly, Reset = 1023)]
    [Field("CQR", 16, 1, Access = FieldAccess.ReadOnly, Reset = 1)]
    [Field("TO", 24, 8, Access = FieldAccess.ReadOnly, Reset = 20)]
    [Field("DSTRD", 32, 4, Access = FieldAccess.ReadOnly)]
    [Field("CSS", 37, 8, Access = FieldAccess.ReadOnly, Reset = 1)]
    [Field("MPSMIN", 48, 4, Access = FieldAccess.ReadOnly)]
    [Field("MPSMAX", 52, 4, Access = FieldAccess.ReadOnly)]
    public partial ulong Cap { get; set; }

    [Register(0x08, 4, Access = RegisterAccess.ReadOnly, Reset = 0x00020000)]
    public partial uint Vs { get; set; }

    [Register(0x0C, 4)]
    public partial uint Intms { get; set; }

    [Register(0x10, 4)]
    public partial uint Intmc { get; set; }

    [Register(0x14, 4)]
    [Field("EN", 0, 1)]
    [Field("CSS", 4, 3)]
    [Field("MPS", 7, 4)]
    [Field("AMS", 11, 3)]
    [Field("SHN", 14, 2, EnumType = typeof(ShutdownNotification))]
    [Field("IOSQES", 16, 4)]
    [Field("IOCQES", 20, 4)]
    public partial uint Cc { get; set; }

    [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
    [Field("RDY", 0, 1, Access = FieldAccess.ReadOnly)]
    [Field("CFS", 1, 1, Access = FieldAccess.ReadOnly)]
    [Field("SHST", 2, 2, Access = FieldAccess.ReadOnly)]
    [Field("NSSRO", 4, 1, Access = FieldAccess.WriteOneToClear)]
    public partial uint Csts { get; set; }

    [Register(0x20, 4)]
    public partial uint Nssr { get; set; }

    [Register(0x24, 4)]
    [Field("ASQS", 0, 12)]
    [Field("ACQS", 16, 12)]
    public partial uint Aqa { get; set; }

    [Register(0x28, 8)]
    public partial ulong Asq { get; set; }

    [Register(0x30, 8)]
    public partial ulong Acq { get; set; }
}
