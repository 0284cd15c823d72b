namespace ShadowIo.Pci;

/// <summary>
/// The MSI-X table and Pending Bit Array as a register map (PCI Local Bus 3.0, §6.8.2), sized for
/// the most vectors a function may have (<see cref="PciMsix.MaxVectors"/>): the table at offset 0,
/// one 16-byte entry per vector (§6.8.2.8: Message Address, Message Upper Address, Message Data,
/// Vector Control with the Mask bit), and the PBA at <see cref="PbaOffset"/>, the page after a full
/// table (§6.8.2.9: one read-only pending bit per vector in QWORDs). <see cref="MsixTable"/> serves a
/// function's smaller table from it.
/// </summary>
[RegisterBlock("MSI-X table and PBA", 0x9000)]
public sealed partial class MsixRegisters
{
    /// <summary>Where the PBA's first QWORD lies: the page after a full 2048-entry table.</summary>
    public const ulong PbaOffset = 0x8000;

    /// <summary>One MSI-X table entry (§6.8.2.8, Figure 6-11), 16 bytes.</summary>
    [RegisterSet("Entries", 0x0, PciMsix.MaxVectors, 0x10)]
    public sealed partial class Entry
    {
        /// <summary>Message Address (§6.8.2.8.1): the low 32 bits of the address the message is written to.</summary>
        [Register(0x0, 4)]
        public partial uint MessageAddress { get; set; }

        /// <summary>Message Upper Address (§6.8.2.8.2): the high 32 bits of the address.</summary>
        [Register(0x4, 4)]
        public partial uint MessageUpperAddress { get; set; }

        /// <summary>Message Data (§6.8.2.8.3).</summary>
        [Register(0x8, 4)]
        public partial uint MessageData { get; set; }

        /// <summary>
        /// Vector Control (§6.8.2.8.4): bit 0 is the Mask bit, set at reset (§6.8.2.8.4: "after reset
        /// the state of this bit must be 1"); bits 31:1 are reserved, read as 0 and ignore writes.
        /// </summary>
        [Register(0xC, 4)]
        [Field("Mask", 0, 1, Reset = 1)]
        [Field("Reserved", 1, 31, Access = FieldAccess.ReadOnly)]
        public partial uint VectorControl { get; set; }
    }

    /// <summary>One QWORD of the Pending Bit Array (§6.8.2.9): bit n is vector 64 × index + n's pending bit; read-only for the guest.</summary>
    [RegisterSet("PendingBits", PbaOffset, PciMsix.MaxVectors / 64, 0x8)]
    public sealed partial class PendingQword
    {
        /// <summary>The 64 pending bits of this QWORD.</summary>
        [Register(0x0, 8, Access = RegisterAccess.ReadOnly)]
        public partial ulong Bits { get; set; }
    }
}
