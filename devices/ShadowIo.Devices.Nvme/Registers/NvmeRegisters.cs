using ShadowIo;

namespace ShadowIo.Devices.Nvme;

/// <summary>
/// NVMe BAR0 (NVM Express Base Specification 2.0, section 3.1 "Register definition") as a
/// ShadowIo register block. The generator emits storage, MMIO dispatch with the access rules
/// below, typed field accessors, the doorbell table and the typed shadow reader.
/// </summary>
/// <remarks>
/// CAP.DSTRD is 0, so doorbell y of the submission queue sits at 0x1000 + 8y and of the
/// completion queue at 0x1004 + 8y. The shadow layout (offset − 0x1000) is exactly the layout
/// of the Doorbell Buffer Config shadow and EventIdx pages: SQ y tail at 8y, CQ y head at 8y + 4.
/// Queue 0 is the admin queue; queues 1..<see cref="MaxIoQueues"/> are I/O queues.
/// </remarks>
[RegisterBlock("NVMe BAR0", 0x4000)]
[DoorbellArray("SqTail", 0x1000, 4, QueueCount, 8)]
[DoorbellArray("CqHead", 0x1004, 4, QueueCount, 8)]
public sealed partial class NvmeRegisters
{
    /// <summary>I/O queue pairs the controller offers (plus the admin queue pair).</summary>
    public const int MaxIoQueues = 16;

    /// <summary>Admin queue plus I/O queues: the length of each doorbell array.</summary>
    public const int QueueCount = MaxIoQueues + 1;

    /// <summary>Controller Capabilities. Every field is fixed by the device.</summary>
    [Register(0x00, 8, Access = RegisterAccess.ReadOnly)]
    [Field("MQES", 0, 16, Access = FieldAccess.ReadOnly, Reset = 1023)]
    [Field("CQR", 16, 1, Access = FieldAccess.ReadOnly, Reset = 1)]
    [Field("AMS", 17, 2, Access = FieldAccess.ReadOnly)]
    [Field("TO", 24, 8, Access = FieldAccess.ReadOnly, Reset = 20)]
    [Field("DSTRD", 32, 4, Access = FieldAccess.ReadOnly)]
    [Field("NSSRS", 36, 1, Access = FieldAccess.ReadOnly)]
    [Field("CSS", 37, 8, Access = FieldAccess.ReadOnly, Reset = 1)]
    [Field("BPS", 45, 1, Access = FieldAccess.ReadOnly)]
    [Field("MPSMIN", 48, 4, Access = FieldAccess.ReadOnly)]
    [Field("MPSMAX", 52, 4, Access = FieldAccess.ReadOnly)]
    public partial ulong Cap { get; set; }

    /// <summary>Version: 1.4.0.</summary>
    [Register(0x08, 4, Access = RegisterAccess.ReadOnly, Reset = 0x0001_0400)]
    public partial uint Vs { get; set; }

    /// <summary>Interrupt Mask Set: writing 1 masks a vector (pin-based interrupts only); reads the mask.</summary>
    [Register(0x0C, 4)]
    [Field("IVMS", 0, 32, Access = FieldAccess.Set)]
    public partial uint Intms { get; set; }

    /// <summary>Interrupt Mask Clear: writing 1 unmasks a vector; reads the mask.</summary>
    [Register(0x10, 4)]
    [Field("IVMC", 0, 32, Access = FieldAccess.WriteOneToClear)]
    public partial uint Intmc { get; set; }

    /// <summary>Controller Configuration.</summary>
    [Register(0x14, 4)]
    [Field("EN", 0, 1)]
    [Field("CSS", 4, 3)]
    [Field("MPS", 7, 4)]
    [Field("AMS", 11, 3)]
    [Field("SHN", 14, 2, EnumType = typeof(ShutdownNotification))]
    [Field("IOSQES", 16, 4)]
    [Field("IOCQES", 20, 4)]
    public partial uint Cc { get; set; }

    /// <summary>
    /// Controller Status (section 3.1.6): RDY, CFS and SHST are the controller's (read-only to the
    /// guest); NSSRO is RW1C, the guest acknowledges an NVM Subsystem Reset by writing it 1.
    /// </summary>
    /// <remarks>
    /// The register stays <see cref="RegisterAccess.ReadOnly"/> so its reserved bits 31:05 stay
    /// read-only (bits outside every field follow the register's access); a clear-only field is
    /// what a read-only register may hold (SHIO021). With CAP.NSSRS = 0 the controller never sets
    /// NSSRO, but a guest write to CSTS is now a read-modify-write beside the controller's own
    /// status updates, which the register block makes atomic.
    /// </remarks>
    [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
    [Field("RDY", 0, 1, Access = FieldAccess.ReadOnly)]
    [Field("CFS", 1, 1, Access = FieldAccess.ReadOnly)]
    [Field("SHST", 2, 2, Access = FieldAccess.ReadOnly, EnumType = typeof(ShutdownStatus))]
    [Field("NSSRO", 4, 1, Access = FieldAccess.WriteOneToClear)]
    public partial uint Csts { get; set; }

    /// <summary>NVM Subsystem Reset: not supported (CAP.NSSRS = 0), writes are ignored.</summary>
    [Register(0x20, 4)]
    public partial uint Nssr { get; set; }

    /// <summary>Admin Queue Attributes: 0's based sizes of the admin queues.</summary>
    [Register(0x24, 4)]
    [Field("ASQS", 0, 12)]
    [Field("ACQS", 16, 12)]
    public partial uint Aqa { get; set; }

    /// <summary>Admin Submission Queue Base Address (page aligned).</summary>
    [Register(0x28, 8)]
    public partial ulong Asq { get; set; }

    /// <summary>Admin Completion Queue Base Address (page aligned).</summary>
    [Register(0x30, 8)]
    public partial ulong Acq { get; set; }
}
