namespace ShadowIo.Pci;

/// <summary>
/// Where a function's MSI-X table and Pending Bit Array live (PCI Local Bus 3.0, §6.8.2): the
/// capability's Table Offset/BIR and PBA Offset/BIR registers.
/// </summary>
/// <param name="VectorCount">Table entries, 1..2048 (the capability's Table Size + 1).</param>
/// <param name="TableBar">The BAR holding the table (BIR).</param>
/// <param name="TableOffset">The table's offset in that BAR, 8-byte aligned.</param>
/// <param name="PbaBar">The BAR holding the PBA.</param>
/// <param name="PbaOffset">The PBA's offset in that BAR, 8-byte aligned.</param>
public sealed record PciMsix(int VectorCount, int TableBar, uint TableOffset, int PbaBar, uint PbaOffset)
{
    /// <summary>The most vectors a function may have (Table Size is 11 bits).</summary>
    public const int MaxVectors = 2048;

    /// <summary>The table and PBA of <paramref name="table"/> at its own offsets in BAR <paramref name="bar"/>.</summary>
    public static PciMsix InBar(int bar, MsixTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return new PciMsix(table.VectorCount, bar, 0, bar, (uint)table.PbaOffset);
    }

    /// <summary>Bytes of the table: 16 per vector.</summary>
    public ulong TableBytes => (ulong)VectorCount * MsixTable.EntrySize;

    /// <summary>Bytes of the PBA: one bit per vector, in whole QWORDs.</summary>
    public ulong PbaBytes => (ulong)(VectorCount + 63) / 64 * 8;

    internal void Validate(IReadOnlyList<PciBar> bars)
    {
        if (VectorCount is < 1 or > MaxVectors)
            throw new ArgumentException($"MSI-X has 1..{MaxVectors} vectors, not {VectorCount}.");
        Check(bars, TableBar, TableOffset, TableBytes, "table");
        Check(bars, PbaBar, PbaOffset, PbaBytes, "PBA");
        if (TableBar == PbaBar && TableOffset < PbaOffset + PbaBytes && PbaOffset < TableOffset + TableBytes)
            throw new ArgumentException("The MSI-X table and PBA overlap.");
    }

    private static void Check(IReadOnlyList<PciBar> bars, int index, uint offset, ulong bytes, string what)
    {
        // The BIR field is the low 3 bits of the offset register, so the offset itself is 8-aligned.
        if ((offset & 7) != 0) throw new ArgumentException($"The MSI-X {what} offset 0x{offset:x} is not 8-byte aligned.");
        PciBar? bar = null;
        foreach (var b in bars) if (b.Index == index) bar = b;
        if (bar == null || !bar.IsMemory) throw new ArgumentException($"The MSI-X {what} is in BAR{index}, which is not a declared memory BAR.");
        if (offset + bytes > bar.Size) throw new ArgumentException($"The MSI-X {what} (0x{offset:x} + {bytes} bytes) does not fit BAR{index} ({bar.Size} bytes).");
    }
}
