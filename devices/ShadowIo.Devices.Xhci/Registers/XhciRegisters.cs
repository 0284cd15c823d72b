namespace ShadowIo.Devices.Xhci;

/// <summary>
/// The xHCI host controller's MMIO space (BAR0), xHCI 1.2 §5: capability registers at 0 (§5.3),
/// operational registers at <see cref="OperationalBase"/> = CAPLENGTH (§5.4) with one port register
/// set per root hub port at operational base + 0x400 + 0x10 × (port − 1) (§5.4.8–§5.4.11), runtime
/// registers at <see cref="RuntimeBase"/> = RTSOFF (§5.5) with one interrupter register set per
/// interrupter at runtime base + 0x20 + 32 × n (§5.5.2), and the doorbell array at
/// <see cref="DoorbellBase"/> = DBOFF (§5.6): doorbell 0 for the host controller's command ring,
/// doorbell n for device slot n, bound as ShadowIo doorbells.
/// </summary>
/// <remarks>
/// The geometry is fixed at compile time: <see cref="MaxPorts"/> ports, <see cref="MaxInterrupters"/>
/// interrupters and <see cref="MaxSlots"/> slots, advertised in HCSPARAMS1 at reset. Bits the
/// specification reserves and that no field declares follow their register's access.
/// </remarks>
[RegisterBlock("xHCI BAR0", 0x4000)]
[DoorbellArray("Doorbell", DoorbellBase, 4, MaxSlots + 1, 4)]
public sealed partial class XhciRegisters
{
    /// <summary>Root hub ports (HCSPARAMS1.MaxPorts).</summary>
    public const int MaxPorts = 8;

    /// <summary>Interrupters (HCSPARAMS1.MaxIntrs).</summary>
    public const int MaxInterrupters = 8;

    /// <summary>Device slots (HCSPARAMS1.MaxSlots); the doorbell array has one more, doorbell 0 for the host controller.</summary>
    public const int MaxSlots = 32;

    /// <summary>Where the operational registers start: CAPLENGTH's reset value (§5.3.1).</summary>
    public const ulong OperationalBase = 0x20;

    /// <summary>Where the runtime registers start: RTSOFF's reset value (§5.3.8, 32-byte aligned).</summary>
    public const ulong RuntimeBase = 0x1000;

    /// <summary>Where the doorbell array starts: DBOFF's reset value (§5.3.7, DWORD aligned).</summary>
    public const ulong DoorbellBase = 0x2000;

    // ---- Capability registers (§5.3), read-only.

    /// <summary>CAPLENGTH (§5.3.1): the offset of the operational registers.</summary>
    [Register(0x00, 1, Access = RegisterAccess.ReadOnly, Reset = OperationalBase)]
    public partial byte CapLength { get; set; }

    /// <summary>HCIVERSION (§5.3.2): the BCD interface version, 0x0120 for xHCI 1.2.</summary>
    [Register(0x02, 2, Access = RegisterAccess.ReadOnly, Reset = 0x0120)]
    public partial ushort HciVersion { get; set; }

    /// <summary>HCSPARAMS1 (§5.3.3): MaxSlots, MaxIntrs, MaxPorts.</summary>
    [Register(0x04, 4, Access = RegisterAccess.ReadOnly)]
    [Field("MaxSlots", 0, 8, Access = FieldAccess.ReadOnly, Reset = MaxSlots)]
    [Field("MaxIntrs", 8, 11, Access = FieldAccess.ReadOnly, Reset = MaxInterrupters)]
    [Field("MaxPorts", 24, 8, Access = FieldAccess.ReadOnly, Reset = MaxPorts)]
    public partial uint HcsParams1 { get; set; }

    /// <summary>HCSPARAMS2 (§5.3.4): IST, ERST Max, scratchpad buffers (none).</summary>
    [Register(0x08, 4, Access = RegisterAccess.ReadOnly)]
    [Field("IST", 0, 4, Access = FieldAccess.ReadOnly)]
    [Field("ERST Max", 4, 4, Access = FieldAccess.ReadOnly)]
    public partial uint HcsParams2 { get; set; }

    /// <summary>HCSPARAMS3 (§5.3.5): U1/U2 device exit latencies.</summary>
    [Register(0x0C, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint HcsParams3 { get; set; }

    /// <summary>HCCPARAMS1 (§5.3.6): AC64 (64-bit addressing) set, 32-byte contexts, no extended capabilities.</summary>
    [Register(0x10, 4, Access = RegisterAccess.ReadOnly)]
    [Field("AC64", 0, 1, Access = FieldAccess.ReadOnly, Reset = 1)]
    [Field("CSZ", 2, 1, Access = FieldAccess.ReadOnly)]
    [Field("xECP", 16, 16, Access = FieldAccess.ReadOnly)]
    public partial uint HccParams1 { get; set; }

    /// <summary>DBOFF (§5.3.7): the doorbell array's offset.</summary>
    [Register(0x14, 4, Access = RegisterAccess.ReadOnly, Reset = DoorbellBase)]
    public partial uint DbOff { get; set; }

    /// <summary>RTSOFF (§5.3.8): the runtime registers' offset.</summary>
    [Register(0x18, 4, Access = RegisterAccess.ReadOnly, Reset = RuntimeBase)]
    public partial uint RtsOff { get; set; }

    /// <summary>HCCPARAMS2 (§5.3.9).</summary>
    [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
    public partial uint HccParams2 { get; set; }

    // ---- Operational registers (§5.4), at OperationalBase.

    /// <summary>USBCMD (§5.4.1).</summary>
    [Register(OperationalBase + 0x00, 4)]
    [Field("R/S", 0, 1)]
    [Field("HCRST", 1, 1)]
    [Field("INTE", 2, 1)]
    [Field("HSEE", 3, 1)]
    [Field("LHCRST", 7, 1)]
    [Field("CSS", 8, 1)]
    [Field("CRS", 9, 1)]
    [Field("EWE", 10, 1)]
    public partial uint UsbCmd { get; set; }

    /// <summary>USBSTS (§5.4.2): HCH set at reset (halted); HSE, EINT, PCD, SRE write-1-to-clear.</summary>
    [Register(OperationalBase + 0x04, 4, Access = RegisterAccess.ReadOnly)]
    [Field("HCH", 0, 1, Access = FieldAccess.ReadOnly, Reset = 1)]
    [Field("HSE", 2, 1, Access = FieldAccess.WriteOneToClear)]
    [Field("EINT", 3, 1, Access = FieldAccess.WriteOneToClear)]
    [Field("PCD", 4, 1, Access = FieldAccess.WriteOneToClear)]
    [Field("SSS", 8, 1, Access = FieldAccess.ReadOnly)]
    [Field("RSS", 9, 1, Access = FieldAccess.ReadOnly)]
    [Field("SRE", 10, 1, Access = FieldAccess.WriteOneToClear)]
    [Field("CNR", 11, 1, Access = FieldAccess.ReadOnly)]
    [Field("HCE", 12, 1, Access = FieldAccess.ReadOnly)]
    public partial uint UsbSts { get; set; }

    /// <summary>PAGESIZE (§5.4.3): bit n set = 2^(n+12)-byte pages supported; 4 KiB only.</summary>
    [Register(OperationalBase + 0x08, 4, Access = RegisterAccess.ReadOnly, Reset = 0x1)]
    public partial uint PageSize { get; set; }

    /// <summary>DNCTRL (§5.4.4): device notification enables N0–N15.</summary>
    [Register(OperationalBase + 0x14, 4)]
    [Field("Notification Enable", 0, 16)]
    public partial uint DnCtrl { get; set; }

    /// <summary>CRCR (§5.4.5): the command ring's dequeue pointer and control.</summary>
    [Register(OperationalBase + 0x18, 8)]
    [Field("RCS", 0, 1)]
    [Field("CS", 1, 1, Access = FieldAccess.Set)]
    [Field("CA", 2, 1, Access = FieldAccess.Set)]
    [Field("CRR", 3, 1, Access = FieldAccess.ReadOnly)]
    [Field("Command Ring Pointer", 6, 58)]
    public partial ulong Crcr { get; set; }

    /// <summary>DCBAAP (§5.4.6): the device context base address array pointer (64-byte aligned).</summary>
    [Register(OperationalBase + 0x30, 8)]
    public partial ulong Dcbaap { get; set; }

    /// <summary>CONFIG (§5.4.7).</summary>
    [Register(OperationalBase + 0x38, 4)]
    [Field("MaxSlotsEn", 0, 8)]
    [Field("U3E", 8, 1)]
    [Field("CIE", 9, 1)]
    public partial uint Config { get; set; }

    /// <summary>
    /// One root hub port's register set (§5.4.8–§5.4.11), at operational base + 0x400 + 0x10 × (port − 1):
    /// element n is port n + 1.
    /// </summary>
    [RegisterSet("Ports", OperationalBase + 0x400, MaxPorts, 0x10)]
    public sealed partial class PortRegisterSet
    {
        /// <summary>PORTSC (§5.4.8): powered (PP) and in RxDetect (PLS = 5) at reset.</summary>
        [Register(0x0, 4, Reset = 0x0000_0200)]
        [Field("CCS", 0, 1, Access = FieldAccess.ReadOnly)]
        [Field("PED", 1, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("OCA", 3, 1, Access = FieldAccess.ReadOnly)]
        [Field("PR", 4, 1, Access = FieldAccess.Set)]
        [Field("PLS", 5, 4, Reset = 5)]
        [Field("PP", 9, 1)]
        [Field("Port Speed", 10, 4, Access = FieldAccess.ReadOnly)]
        [Field("PIC", 14, 2)]
        [Field("LWS", 16, 1)]
        [Field("CSC", 17, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("PEC", 18, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("WRC", 19, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("OCC", 20, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("PRC", 21, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("PLC", 22, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("CEC", 23, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("CAS", 24, 1, Access = FieldAccess.ReadOnly)]
        [Field("WCE", 25, 1)]
        [Field("WDE", 26, 1)]
        [Field("WOE", 27, 1)]
        [Field("DR", 30, 1, Access = FieldAccess.ReadOnly)]
        [Field("WPR", 31, 1, Access = FieldAccess.Set)]
        public partial uint PortSc { get; set; }

        /// <summary>PORTPMSC (§5.4.9): power management status and control (USB3 layout: U1/U2 timeouts, FLA).</summary>
        [Register(0x4, 4)]
        public partial uint PortPmsc { get; set; }

        /// <summary>PORTLI (§5.4.10): link error count (USB3), read-only.</summary>
        [Register(0x8, 4, Access = RegisterAccess.ReadOnly)]
        public partial uint PortLi { get; set; }

        /// <summary>PORTHLPMC (§5.4.11): hardware LPM control.</summary>
        [Register(0xC, 4)]
        public partial uint PortHlpmc { get; set; }
    }

    // ---- Runtime registers (§5.5), at RuntimeBase.

    /// <summary>MFINDEX (§5.5.1): the microframe index, read-only.</summary>
    [Register(RuntimeBase + 0x00, 4, Access = RegisterAccess.ReadOnly)]
    [Field("Microframe Index", 0, 14, Access = FieldAccess.ReadOnly)]
    public partial uint MfIndex { get; set; }

    /// <summary>One interrupter's register set (§5.5.2), at runtime base + 0x20 + 32 × n.</summary>
    [RegisterSet("Interrupters", RuntimeBase + 0x20, MaxInterrupters, 0x20)]
    public sealed partial class InterrupterRegisterSet
    {
        /// <summary>IMAN (§5.5.2.1): IP write-1-to-clear, IE.</summary>
        [Register(0x00, 4)]
        [Field("IP", 0, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("IE", 1, 1)]
        public partial uint Iman { get; set; }

        /// <summary>IMOD (§5.5.2.2): interval 4000 × 250 ns (1 ms) at reset.</summary>
        [Register(0x04, 4)]
        [Field("IMODI", 0, 16, Reset = 4000)]
        [Field("IMODC", 16, 16)]
        public partial uint Imod { get; set; }

        /// <summary>ERSTSZ (§5.5.2.3.1): event ring segment table size.</summary>
        [Register(0x08, 4)]
        [Field("Event Ring Segment Table Size", 0, 16)]
        public partial uint ErstSz { get; set; }

        /// <summary>ERSTBA (§5.5.2.3.2): event ring segment table base address (64-byte aligned).</summary>
        [Register(0x10, 8)]
        public partial ulong ErstBa { get; set; }

        /// <summary>ERDP (§5.5.2.3.3): event ring dequeue pointer; EHB write-1-to-clear.</summary>
        [Register(0x18, 8)]
        [Field("DESI", 0, 3)]
        [Field("EHB", 3, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("Event Ring Dequeue Pointer", 4, 60)]
        public partial ulong Erdp { get; set; }
    }

    // ---- Doorbell array (§5.6): one DWORD per slot, the [DoorbellArray] above.

    /// <summary>DB Target (§5.6, bits 7:0) of a doorbell value: the endpoint (1–31) for a slot, 0 for the command ring.</summary>
    public static byte DbTarget(uint doorbell) => (byte)(doorbell & DbTargetMask);

    /// <summary>DB Stream ID (§5.6, bits 31:16) of a doorbell value.</summary>
    public static ushort DbStreamId(uint doorbell) => (ushort)(doorbell >> DbStreamIdShift);

    /// <summary>DB Target's bits in a doorbell value.</summary>
    public const uint DbTargetMask = 0x0000_00FF;

    /// <summary>Position of DB Stream ID in a doorbell value.</summary>
    public const int DbStreamIdShift = 16;
}
