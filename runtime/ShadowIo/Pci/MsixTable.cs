namespace ShadowIo.Pci;

/// <summary>
/// An MSI-X table and Pending Bit Array as a BAR's device (PCI Local Bus 3.0, §6.8.2): the table
/// at offset 0, 16 bytes per vector (Message Address low/high, Message Data, Vector Control with
/// the Mask bit), and the PBA on the page after it, one read-only bit per vector. The registers are
/// <see cref="MsixRegisters"/>' (the register map, checked at compile time, sized for 2048
/// vectors); this class serves a function's first <see cref="VectorCount"/> entries of it at the
/// layout the function's capability advertises.
/// </summary>
/// <remarks>
/// <para>A vfio-user client such as QEMU emulates the table itself (it owns the vectors' addresses
/// and masks) and forwards only PBA reads here; a client that does not still finds a complete
/// table.</para>
/// <para>Accesses: aligned DWORDs and QWORDs (§6.8.2: "software must use aligned full DWORD or
/// aligned full QWORD transactions"; a QWORD of the table is its two DWORDs), and anything narrower
/// inside one register; anything else, and any access outside the table and PBA, reads as zero and
/// writes nothing. Never throws.</para>
/// <para>Threading: guest accesses (a transport's thread) are the map's atomic register updates;
/// the device's <see cref="SetPending"/> (any thread) takes a lock, so pending updates never
/// interleave (the guest cannot write the PBA).</para>
/// </remarks>
public sealed class MsixTable : IMmioDevice
{
    /// <summary>Bytes of one table entry.</summary>
    public const int EntrySize = 16;

    /// <summary>Vector Control's Mask bit (bit 0 of the entry's last DWORD); set at reset.</summary>
    public const uint VectorControlMask = MsixRegisters.Entry.VectorControlFields.MaskMask;

    private const int PageSize = 4096;

    private readonly Lock _pendingGate = new();
    private readonly MsixRegisters _registers = new();
    private readonly ulong _tableBytes;
    private readonly ulong _pbaBytes;

    /// <summary>A table of <paramref name="vectorCount"/> entries, every vector masked.</summary>
    public MsixTable(int vectorCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vectorCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vectorCount, PciMsix.MaxVectors);
        VectorCount = vectorCount;
        _tableBytes = (ulong)vectorCount * EntrySize;
        _pbaBytes = (ulong)(vectorCount + 63) / 64 * 8;
        PbaOffset = (_tableBytes + PageSize - 1) / PageSize * PageSize;
        BarSize = Math.Max((ulong)PageSize, System.Numerics.BitOperations.RoundUpToPowerOf2(PbaOffset + _pbaBytes));
    }

    /// <summary>Vectors in the table.</summary>
    public int VectorCount { get; }

    /// <summary>Where the PBA starts (the page after the table).</summary>
    public ulong PbaOffset { get; }

    /// <summary>The smallest power-of-two BAR holding table and PBA (at least a page).</summary>
    public ulong BarSize { get; }

    /// <summary>Whether <paramref name="vector"/>'s Mask bit is set (true for a vector that does not exist).</summary>
    public bool IsMasked(int vector) =>
        (uint)vector >= (uint)VectorCount || _registers.Entries[vector].VectorControlMask;

    /// <summary>The Message Address and Data the guest programmed for <paramref name="vector"/> (zero for one that does not exist).</summary>
    public (ulong Address, uint Data) GetMessage(int vector)
    {
        if ((uint)vector >= (uint)VectorCount) return (0, 0);
        MsixRegisters.Entry entry = _registers.Entries[vector];
        return (((ulong)entry.MessageUpperAddress << 32) | entry.MessageAddress, entry.MessageData);
    }

    /// <summary>Sets or clears <paramref name="vector"/>'s pending bit (the device holds a message for a masked vector); ignored for one that does not exist.</summary>
    public void SetPending(int vector, bool pending)
    {
        if ((uint)vector >= (uint)VectorCount) return;
        ulong bit = 1UL << (vector & 63);
        MsixRegisters.PendingQword qword = _registers.PendingBits[vector >> 6];
        lock (_pendingGate) qword.Bits = pending ? qword.Bits | bit : qword.Bits & ~bit;
    }

    /// <summary>Whether <paramref name="vector"/>'s pending bit is set.</summary>
    public bool IsPending(int vector) =>
        (uint)vector < (uint)VectorCount && (_registers.PendingBits[vector >> 6].Bits & (1UL << (vector & 63))) != 0;

    /// <summary>Power-on state: addresses and data zero, every vector masked, nothing pending.</summary>
    public void Reset()
    {
        lock (_pendingGate) _registers.ResetRegisters();
    }

    /// <summary>A read of the table or PBA; anything else (a gap, a straddling access) reads as zero.</summary>
    public ulong ReadMmio(ulong offset, int size)
    {
        if (IsTable(offset, size))
        {
            return size == 8 && offset % 8 == 0
                ? _registers.ReadMmio(offset, 4) | (_registers.ReadMmio(offset + 4, 4) << 32)
                : _registers.ReadMmio(offset, size);
        }

        // The PBA's QWORDs are 8-byte registers: a DWORD read of either half is a narrow access inside one.
        if (offset >= PbaOffset && offset - PbaOffset < _pbaBytes && size is 1 or 2 or 4 or 8 && (ulong)size <= _pbaBytes - (offset - PbaOffset))
        {
            return _registers.ReadMmio(MsixRegisters.PbaOffset + (offset - PbaOffset), size);
        }

        return 0;
    }

    /// <summary>
    /// A write of the table: address and data as written, of Vector Control only the Mask bit (the
    /// rest is reserved). PBA writes are ignored (§6.8.2.9: read-only), as is anything outside.
    /// </summary>
    public void WriteMmio(ulong offset, int size, ulong value)
    {
        if (!IsTable(offset, size)) return;
        if (size == 8 && offset % 8 == 0)
        {
            _registers.WriteMmio(offset, 4, value & uint.MaxValue);
            _registers.WriteMmio(offset + 4, 4, value >> 32);
            return;
        }

        _registers.WriteMmio(offset, size, value);
    }

    /// <summary>Whether an access lies inside this function's entries (the map holds 2048; the rest are not this table's).</summary>
    private bool IsTable(ulong offset, int size) =>
        size is 1 or 2 or 4 or 8 && offset < _tableBytes && (ulong)size <= _tableBytes - offset;
}
