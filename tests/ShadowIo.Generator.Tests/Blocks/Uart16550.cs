namespace ShadowIo.Generator.Tests.Blocks;

/// <summary>
/// A 16550-style UART as the PC has it, a port I/O block of byte registers (COM1 is ports
/// 0x3F8-0x3FF; no doorbells): line status bits that clear when read, an interrupt-identification
/// register, a scratch register.
/// </summary>
[RegisterBlock("UART 16550", 0x8, AddressSpace = AddressSpace.Port)]
public sealed partial class Uart16550
{
    [Register(0x0, 1, Access = RegisterAccess.WriteOnly)]
    public partial byte Transmit { get; set; }

    [Register(0x1, 1)]
    [Field("ERBFI", 0, 1)]
    [Field("ETBEI", 1, 1)]
    [Field("ELSI", 2, 1)]
    public partial byte InterruptEnable { get; set; }

    [Register(0x2, 1, Access = RegisterAccess.ReadOnly, Reset = 0x01)]
    [Field("NOT PENDING", 0, 1, Access = FieldAccess.ReadOnly)]
    [Field("ID", 1, 3, Access = FieldAccess.ReadOnly)]
    public partial byte InterruptIdentification { get; set; }

    [Register(0x5, 1, Access = RegisterAccess.ReadOnly, Reset = 0x60)]
    [Field("DR", 0, 1, Access = FieldAccess.ReadOnly)]
    [Field("OE", 1, 1, Access = FieldAccess.ReadToClear)]
    [Field("PE", 2, 1, Access = FieldAccess.ReadToClear)]
    [Field("FE", 3, 1, Access = FieldAccess.ReadToClear)]
    [Field("THRE", 5, 1, Access = FieldAccess.ReadOnly)]
    [Field("TEMT", 6, 1, Access = FieldAccess.ReadOnly)]
    public partial byte LineStatus { get; set; }

    [Register(0x6, 2)]
    [Field("DIVISOR", 0, 16, Access = FieldAccess.ReadWrite, Reset = 12)]
    public partial ushort Divisor { get; set; }
}
