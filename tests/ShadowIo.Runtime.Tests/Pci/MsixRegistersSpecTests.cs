using ShadowIo.Pci;

namespace ShadowIo.Runtime.Tests.Pci;

/// <summary>
/// The MSI-X register map against PCI Local Bus 3.0 §6.8.2, and MsixTable served from it: every
/// offset and width from the specification's table, the Mask bit's reset and write rules, QWORD
/// accesses, the read-only PBA.
/// </summary>
public sealed class MsixRegistersSpecTests
{
    /// <summary>PCI Local Bus 3.0 §6.8.2.8, Figure 6-11 (MSI-X Table Entry): DWORD offsets in one 16-byte entry.</summary>
    public static TheoryData<string, ulong, int> TableEntry => new()
    {
        { "Message Address (§6.8.2.8.1)", 0x0, 4 },
        { "Message Upper Address (§6.8.2.8.2)", 0x4, 4 },
        { "Message Data (§6.8.2.8.3)", 0x8, 4 },
        { "Vector Control (§6.8.2.8.4)", 0xC, 4 },
    };

    [Theory]
    [MemberData(nameof(TableEntry))]
    public void Table_entry_registers_sit_where_the_specification_puts_them(string register, ulong offset, int width)
    {
        ulong declared = register switch
        {
            _ when register.StartsWith("Message Address", StringComparison.Ordinal) => MsixRegisters.Entry.MessageAddressOffset,
            _ when register.StartsWith("Message Upper", StringComparison.Ordinal) => MsixRegisters.Entry.MessageUpperAddressOffset,
            _ when register.StartsWith("Message Data", StringComparison.Ordinal) => MsixRegisters.Entry.MessageDataOffset,
            _ => MsixRegisters.Entry.VectorControlOffset,
        };
        Assert.Equal(offset, declared);

        // The width, observed: a write of all ones at the register lands in exactly `width` bytes of the entry.
        var registers = new MsixRegisters();
        registers.WriteMmio(MsixRegisters.EntriesStride + offset, width, ulong.MaxValue);
        Assert.NotEqual(0UL, registers.ReadMmio(MsixRegisters.EntriesStride + offset, width));
        Assert.Equal(0UL, registers.ReadMmio(MsixRegisters.EntriesStride + offset, width * 2)); // wider than the register: undefined
    }

    [Fact]
    public void Geometry_matches_section_6_8_2()
    {
        Assert.Equal(16UL, MsixRegisters.EntriesStride);               // §6.8.2.8: 16-byte entries
        Assert.Equal(PciMsix.MaxVectors, MsixRegisters.EntriesCount); // §6.8.2.3: Table Size is 11 bits, N − 1 encoded
        Assert.Equal(0UL, MsixRegisters.EntriesOffset);
        Assert.Equal(8UL, MsixRegisters.PendingBitsStride);           // §6.8.2.9: PBA in QWORDs
        Assert.Equal(PciMsix.MaxVectors / 64, MsixRegisters.PendingBitsCount);
        Assert.Equal(0x1U, MsixRegisters.Entry.VectorControlFields.MaskMask); // §6.8.2.8.4: Mask Bit is bit 0
    }

    [Fact]
    public void Every_vector_is_masked_at_reset_and_reserved_bits_ignore_writes()
    {
        var table = new MsixTable(PciMsix.MaxVectors);
        for (int v = 0; v < table.VectorCount; v++) Assert.True(table.IsMasked(v));

        ulong control = (5 * MsixTable.EntrySize) + MsixRegisters.Entry.VectorControlOffset;
        table.WriteMmio(control, 4, 0xFFFF_FFFE);
        Assert.False(table.IsMasked(5));
        Assert.Equal(0UL, table.ReadMmio(control, 4));
        table.WriteMmio(control, 4, 1);
        Assert.True(table.IsMasked(5));
        Assert.Equal(1UL, table.ReadMmio(control, 4));
    }

    [Fact]
    public void A_QWORD_write_of_the_address_is_its_two_DWORDs()
    {
        var table = new MsixTable(3);
        ulong entry = 2 * MsixTable.EntrySize;
        table.WriteMmio(entry, 8, 0x0000_0001_FEE0_1000);
        table.WriteMmio(entry + MsixRegisters.Entry.MessageDataOffset, 4, 0x4021);
        Assert.Equal((0x0000_0001_FEE0_1000UL, 0x4021U), table.GetMessage(2));
        Assert.Equal(0x0000_0001_FEE0_1000UL, table.ReadMmio(entry, 8));
        Assert.Equal(0xFEE0_1000UL, table.ReadMmio(entry, 4));
    }

    [Fact]
    public void The_PBA_is_read_only_and_reports_pending_bits_by_QWORD()
    {
        var table = new MsixTable(70);
        table.SetPending(1, true);
        table.SetPending(65, true);
        Assert.Equal(2UL, table.ReadMmio(table.PbaOffset, 8));
        Assert.Equal(2UL, table.ReadMmio(table.PbaOffset + 8, 4));
        table.WriteMmio(table.PbaOffset, 8, 0);
        Assert.True(table.IsPending(1));
        table.SetPending(1, false);
        Assert.Equal(0UL, table.ReadMmio(table.PbaOffset, 8));
        Assert.Equal(0UL, table.ReadMmio(table.PbaOffset + 16, 8)); // beyond this function's 2 QWORDs
    }

    [Fact]
    public void Entries_beyond_the_functions_vector_count_are_not_there()
    {
        var table = new MsixTable(4);
        table.WriteMmio(4 * MsixTable.EntrySize, 4, 0xFEE0_0000);
        Assert.Equal(0UL, table.ReadMmio(4 * MsixTable.EntrySize, 4));
        Assert.Equal((0UL, 0U), table.GetMessage(4));
        Assert.True(table.IsMasked(4));
    }
}
