using System.Buffers.Binary;

namespace ShadowIo.Pci;

/// <summary>
/// An MSI-X table and Pending Bit Array as a BAR's device (PCI Local Bus 3.0, §6.8.2): the table
/// at offset 0, 16 bytes per vector (Message Address low/high, Message Data, Vector Control with
/// the Mask bit), and the PBA on the page after it, one read-only bit per vector.
/// </summary>
/// <remarks>
/// <para>A vfio-user client such as QEMU emulates the table itself (it owns the vectors' addresses
/// and masks) and forwards only PBA reads here; a client that does not still finds a complete
/// table. The layout is a runtime number of vectors, so it is written here rather than declared
/// with the register-map attributes (the generator has fixed layouts, no register arrays).</para>
/// <para>Threading: guest accesses (a transport's thread) and the device's <see cref="SetPending"/>
/// (any thread) take one lock; every access is bounds-checked and never throws.</para>
/// </remarks>
public sealed class MsixTable : IMmioDevice
{
    /// <summary>Bytes of one table entry.</summary>
    public const int EntrySize = 16;

    /// <summary>Vector Control's Mask bit (bit 0 of the entry's last DWORD); set at reset.</summary>
    public const uint VectorControlMask = 1;

    private const int PageSize = 4096;
    private const int VectorControlOffset = 12;

    private readonly Lock _gate = new();
    private readonly byte[] _table;
    private readonly ulong[] _pending;

    /// <summary>A table of <paramref name="vectorCount"/> entries, every vector masked.</summary>
    public MsixTable(int vectorCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vectorCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vectorCount, PciMsix.MaxVectors);
        VectorCount = vectorCount;
        _table = new byte[vectorCount * EntrySize];
        _pending = new ulong[(vectorCount + 63) / 64];
        PbaOffset = (ulong)(_table.Length + PageSize - 1) / PageSize * PageSize;
        ulong end = PbaOffset + (ulong)_pending.Length * 8;
        BarSize = Math.Max((ulong)PageSize, System.Numerics.BitOperations.RoundUpToPowerOf2(end));
        Reset();
    }

    /// <summary>Vectors in the table.</summary>
    public int VectorCount { get; }

    /// <summary>Where the PBA starts (the page after the table).</summary>
    public ulong PbaOffset { get; }

    /// <summary>The smallest power-of-two BAR holding table and PBA (at least a page).</summary>
    public ulong BarSize { get; }

    /// <summary>Whether <paramref name="vector"/>'s Mask bit is set (true for a vector that does not exist).</summary>
    public bool IsMasked(int vector)
    {
        if ((uint)vector >= (uint)VectorCount) return true;
        lock (_gate) return (BinaryPrimitives.ReadUInt32LittleEndian(_table.AsSpan(vector * EntrySize + VectorControlOffset)) & VectorControlMask) != 0;
    }

    /// <summary>The Message Address and Data the guest programmed for <paramref name="vector"/> (zero for one that does not exist).</summary>
    public (ulong Address, uint Data) GetMessage(int vector)
    {
        if ((uint)vector >= (uint)VectorCount) return (0, 0);
        lock (_gate)
        {
            var entry = _table.AsSpan(vector * EntrySize, EntrySize);
            return (BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]));
        }
    }

    /// <summary>Sets or clears <paramref name="vector"/>'s pending bit (the device holds a message for a masked vector); ignored for one that does not exist.</summary>
    public void SetPending(int vector, bool pending)
    {
        if ((uint)vector >= (uint)VectorCount) return;
        ulong bit = 1UL << (vector & 63);
        lock (_gate)
        {
            if (pending) _pending[vector >> 6] |= bit;
            else _pending[vector >> 6] &= ~bit;
        }
    }

    /// <summary>Whether <paramref name="vector"/>'s pending bit is set.</summary>
    public bool IsPending(int vector)
    {
        if ((uint)vector >= (uint)VectorCount) return false;
        lock (_gate) return (_pending[vector >> 6] & (1UL << (vector & 63))) != 0;
    }

    /// <summary>Power-on state: addresses and data zero, every vector masked, nothing pending.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            Array.Clear(_table);
            Array.Clear(_pending);
            for (int v = 0; v < VectorCount; v++)
                BinaryPrimitives.WriteUInt32LittleEndian(_table.AsSpan(v * EntrySize + VectorControlOffset), VectorControlMask);
        }
    }

    /// <summary>A read of the table or PBA; anything else (a gap, a straddling access) reads as zero.</summary>
    public ulong ReadMmio(ulong offset, int size)
    {
        if (size is not (1 or 2 or 4 or 8)) return 0;
        lock (_gate)
        {
            if (TryTable(offset, size, out int at))
                return ReadLittleEndian(_table.AsSpan(at, size));
            if (offset >= PbaOffset && offset - PbaOffset < (ulong)_pending.Length * 8 && (ulong)size <= (ulong)_pending.Length * 8 - (offset - PbaOffset))
            {
                Span<byte> bytes = stackalloc byte[_pending.Length * 8];
                for (int i = 0; i < _pending.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes[(i * 8)..], _pending[i]);
                return ReadLittleEndian(bytes.Slice((int)(offset - PbaOffset), size));
            }
        }
        return 0;
    }

    /// <summary>
    /// A write of the table: address and data bytes as written, of Vector Control only the Mask bit
    /// (the rest is reserved). PBA writes are ignored (§6.8.2.7: read-only), as is anything outside.
    /// </summary>
    public void WriteMmio(ulong offset, int size, ulong value)
    {
        if (size is not (1 or 2 or 4 or 8)) return;
        lock (_gate)
        {
            if (!TryTable(offset, size, out int at)) return;
            for (int i = 0; i < size; i++)
            {
                int position = at + i;
                byte b = (byte)(value >> (8 * i));
                int inEntry = position % EntrySize;
                if (inEntry >= VectorControlOffset)
                    b = inEntry == VectorControlOffset ? (byte)((_table[position] & ~VectorControlMask) | (b & VectorControlMask)) : (byte)0;
                _table[position] = b;
            }
        }
    }

    private bool TryTable(ulong offset, int size, out int at)
    {
        at = (int)Math.Min(offset, int.MaxValue);
        return offset < (ulong)_table.Length && (ulong)size <= (ulong)_table.Length - offset;
    }

    private static ulong ReadLittleEndian(ReadOnlySpan<byte> bytes)
    {
        ulong value = 0;
        for (int i = 0; i < bytes.Length; i++) value |= (ulong)bytes[i] << (8 * i);
        return value;
    }
}
