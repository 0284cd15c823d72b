namespace ShadowIo;

/// <summary>
/// A generated register block's doorbells: what a binding registers with KVM and where each
/// value lands in the shadow page. Built once per block type by generated code.
/// </summary>
/// <remarks>Immutable once built: safe to share between threads and bindings.</remarks>
public sealed class DoorbellTable
{
    private readonly DoorbellEntry[] _entries;
    private readonly ulong[] _sortedOffsets;
    private readonly int[] _sortedIndex;

    /// <param name="blockName">The block's declared name.</param>
    /// <param name="blockSize">The block's size in bytes.</param>
    /// <param name="shadowSize">Bytes the shadow layout uses (end of the last value doorbell).</param>
    /// <param name="entries">Rows in declaration order; the array is owned by the table.</param>
    public DoorbellTable(string blockName, ulong blockSize, int shadowSize, DoorbellEntry[] entries)
    {
        BlockName = blockName;
        BlockSize = blockSize;
        ShadowSize = shadowSize;
        _entries = entries;
        _sortedIndex = new int[entries.Length];
        for (int i = 0; i < _sortedIndex.Length; i++) _sortedIndex[i] = i;
        _sortedOffsets = new ulong[entries.Length];
        for (int i = 0; i < entries.Length; i++) _sortedOffsets[i] = entries[i].Offset;
        Array.Sort(_sortedOffsets, _sortedIndex);
    }

    /// <summary>The block's declared name (<c>[RegisterBlock("NVMe BAR0", …)]</c>), for messages.</summary>
    public string BlockName { get; }

    /// <summary>The block's size in bytes: every row's offset + width lies within it.</summary>
    public ulong BlockSize { get; }

    /// <summary>Bytes of the shadow page the value rows use (the end of the last value doorbell's slot).</summary>
    public int ShadowSize { get; }

    /// <summary>Number of rows: doorbells with array elements expanded.</summary>
    public int Count => _entries.Length;

    /// <summary>Every row in declaration order; a row's index here is its row number everywhere else.</summary>
    public ReadOnlySpan<DoorbellEntry> Entries => _entries;

    /// <summary>Row <paramref name="index"/>, by reference (no copy).</summary>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="Count"/>).</exception>
    public ref readonly DoorbellEntry this[int index] => ref _entries[index];

    /// <summary>
    /// Finds the doorbell that starts at <paramref name="offset"/> in the block (the trap path
    /// and proxy transports see raw offsets). Binary search: no allocation.
    /// </summary>
    public bool TryFind(ulong offset, out int index)
    {
        int i = Array.BinarySearch(_sortedOffsets, offset);
        index = i >= 0 ? _sortedIndex[i] : -1;
        return i >= 0;
    }
}
