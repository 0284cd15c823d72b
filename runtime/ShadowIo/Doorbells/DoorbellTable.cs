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
        // By offset, then by row: rows sharing an address (datamatch doorbells, virtio's queue
        // notify) stay in declaration order, so the first of them is always the same one.
        _sortedIndex = new int[entries.Length];
        for (int i = 0; i < _sortedIndex.Length; i++) _sortedIndex[i] = i;
        Array.Sort(_sortedIndex, (a, b) => entries[a].Offset != entries[b].Offset ? entries[a].Offset.CompareTo(entries[b].Offset) : a.CompareTo(b));
        _sortedOffsets = new ulong[entries.Length];
        for (int i = 0; i < entries.Length; i++) _sortedOffsets[i] = entries[_sortedIndex[i]].Offset;
    }

    /// <summary>The block's declared name (<c>[RegisterBlock("NVMe BAR0", …)]</c>), for messages.</summary>
    public string BlockName { get; }

    /// <summary>The block's size in bytes: every row's offset + width lies within it.</summary>
    public ulong BlockSize { get; }

    /// <summary>Bytes of the shadow page the value rows use (the end of the last value doorbell's slot).</summary>
    public int ShadowSize { get; }

    /// <summary>
    /// The space the block's addresses are in: a port block's rows bind with
    /// <c>KVM_IOEVENTFD_FLAG_PIO</c> and trap as <c>KVM_EXIT_IO</c>. Generated tables set it from
    /// <see cref="RegisterBlockAttribute.AddressSpace"/>.
    /// </summary>
    public AddressSpace AddressSpace { get; init; }

    /// <summary>Number of rows: doorbells with array elements expanded.</summary>
    public int Count => _entries.Length;

    /// <summary>Every row in declaration order; a row's index here is its row number everywhere else.</summary>
    public ReadOnlySpan<DoorbellEntry> Entries => _entries;

    /// <summary>Row <paramref name="index"/>, by reference (no copy).</summary>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="Count"/>).</exception>
    public ref readonly DoorbellEntry this[int index] => ref _entries[index];

    /// <summary>
    /// Finds the doorbell that starts at <paramref name="offset"/> in the block (the trap path
    /// and the vfio-user transport see raw offsets); of several on one address (datamatch doorbells),
    /// the first declared. Binary search: no allocation.
    /// </summary>
    public bool TryFind(ulong offset, out int index)
    {
        int i = FirstAt(offset);
        index = i >= 0 ? _sortedIndex[i] : -1;
        return i >= 0;
    }

    /// <summary>
    /// Finds the row KVM would fire for a <paramref name="size"/>-byte write of
    /// <paramref name="value"/> at <paramref name="offset"/> (<see cref="IoEventFdMatch"/>: exact
    /// width, and datamatch where the row has one). Several rows may share an address, each with
    /// its own datamatch (virtio's queue notify: value = queue index); exactly the row whose
    /// datamatch equals the written bytes is found, or none. Binary search, then a scan of the
    /// rows at that address: no allocation.
    /// </summary>
    public bool TryFind(ulong offset, int size, ulong value, out int index)
    {
        for (int i = FirstAt(offset); i >= 0 && i < _sortedOffsets.Length && _sortedOffsets[i] == offset; i++)
        {
            if (IoEventFdMatch.Matches(_entries[_sortedIndex[i]], size, value))
            {
                index = _sortedIndex[i];
                return true;
            }
        }

        index = -1;
        return false;
    }

    /// <summary>The first position in the sorted offsets holding <paramref name="offset"/>, or -1.</summary>
    private int FirstAt(ulong offset)
    {
        int low = 0, high = _sortedOffsets.Length;
        while (low < high)
        {
            int middle = low + ((high - low) / 2);
            if (_sortedOffsets[middle] < offset) low = middle + 1;
            else high = middle;
        }

        return low < _sortedOffsets.Length && _sortedOffsets[low] == offset ? low : -1;
    }
}
