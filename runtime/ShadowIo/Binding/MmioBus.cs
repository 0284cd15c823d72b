namespace ShadowIo.Binding;

/// <summary>
/// The VMM's map of guest-physical MMIO ranges to devices (firecracker's bus): ranges never
/// overlap, devices see offsets within their own range, and a range's
/// <see cref="DoorbellBinding"/> gets each write first (the trap path). Lookups allocate nothing
/// and may run concurrently with <see cref="Add"/>/<see cref="Remove"/>.
/// </summary>
public sealed class MmioBus
{
    /// <summary>One device's window: [<see cref="Base"/>, <see cref="Base"/> + <see cref="Size"/>).</summary>
    public sealed record Range(ulong Base, ulong Size, IMmioDevice Device, DoorbellBinding? Doorbells)
    {
        /// <summary>The first address past the window.</summary>
        public ulong End => Base + Size;
    }

    private Range[] _ranges = [];
    private readonly Lock _gate = new();
    private readonly AddressSpace _space;

    /// <summary>An empty guest-physical MMIO bus.</summary>
    public MmioBus() : this(AddressSpace.Mmio) { }

    /// <summary>The same map over another space: <see cref="PortBus"/> keeps its ranges in one.</summary>
    internal MmioBus(AddressSpace space) => _space = space;

    private string SpaceName => _space == AddressSpace.Port ? "Port" : "MMIO";

    /// <summary>The windows now, sorted by base (a snapshot: later changes do not alter it).</summary>
    public ReadOnlySpan<Range> Ranges => Volatile.Read(ref _ranges);

    /// <summary>Maps <paramref name="device"/> at [<paramref name="gpa"/>, +<paramref name="size"/>); overlap is an error.</summary>
    public void Add(ulong gpa, ulong size, IMmioDevice device, DoorbellBinding? doorbells = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ulong limit = _space == AddressSpace.Port ? PortBus.PortSpaceSize : ulong.MaxValue;
        if (size == 0 || gpa + size < gpa || gpa + size > limit)
            throw new ArgumentOutOfRangeException(nameof(size), $"{SpaceName} range at 0x{gpa:x} of size 0x{size:x} is empty or runs past the end of the address space.");
        if (doorbells != null && doorbells.BlockGpa != gpa)
            throw new ArgumentException($"The doorbell binding is at 0x{doorbells.BlockGpa:x}, the device at 0x{gpa:x}.", nameof(doorbells));
        if (doorbells != null && doorbells.Table.AddressSpace != _space)
            throw new ArgumentException(
                $"Block '{doorbells.Table.BlockName}' is declared in the {doorbells.Table.AddressSpace} space; this bus is the {_space} bus " +
                $"({(_space == AddressSpace.Mmio ? "map port I/O blocks on a PortBus" : "map MMIO blocks on an MmioBus")}).", nameof(doorbells));
        lock (_gate)
        {
            foreach (var r in _ranges)
                if (gpa < r.End && r.Base < gpa + size)
                    throw new ArgumentException($"{SpaceName} range [0x{gpa:x}, 0x{gpa + size:x}) overlaps [0x{r.Base:x}, 0x{r.End:x}).");
            Range[] next = [.. _ranges, new Range(gpa, size, device, doorbells)];
            Array.Sort(next, static (a, b) => a.Base.CompareTo(b.Base));
            Volatile.Write(ref _ranges, next);
        }
    }

    /// <summary>Maps a generated register block over its declared size, with its doorbell binding.</summary>
    public void Add<TBlock>(ulong gpa, TBlock block, DoorbellBinding? doorbells = null) where TBlock : IRegisterBlock =>
        Add(gpa, TBlock.DoorbellTable.BlockSize, block, doorbells);

    /// <summary>Unmaps the range starting at <paramref name="gpa"/>.</summary>
    public bool Remove(ulong gpa)
    {
        lock (_gate)
        {
            int i = Array.FindIndex(_ranges, r => r.Base == gpa);
            if (i < 0) return false;
            Volatile.Write(ref _ranges, [.. _ranges.AsSpan(0, i), .. _ranges.AsSpan(i + 1)]);
            return true;
        }
    }

    /// <summary>The range containing [<paramref name="gpa"/>, +<paramref name="size"/>), if one does wholly.</summary>
    public bool TryFind(ulong gpa, int size, out Range? range)
    {
        var ranges = Volatile.Read(ref _ranges);
        int lo = 0, hi = ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var r = ranges[mid];
            if (gpa < r.Base) hi = mid - 1;
            else if (gpa - r.Base >= r.Size) lo = mid + 1;
            else
            {
                range = size > 0 && (ulong)size <= r.Size - (gpa - r.Base) ? r : null;
                return range != null;
            }
        }
        range = null;
        return false;
    }

    /// <summary>A guest read; false when no device covers the access (the VMM decides what the guest sees).</summary>
    public bool TryRead(ulong gpa, int size, out ulong value)
    {
        if (!TryFind(gpa, size, out var r))
        {
            value = 0;
            return false;
        }
        value = r!.Device.ReadMmio(gpa - r.Base, size);
        return true;
    }

    /// <summary>A guest write: the range's doorbell binding first, then the device's dispatch.</summary>
    public bool TryWrite(ulong gpa, int size, ulong value)
    {
        if (!TryFind(gpa, size, out var r)) return false;
        if (r!.Doorbells?.TryHandleMmioWrite(gpa, size, value) != true)
            r.Device.WriteMmio(gpa - r.Base, size, value);
        return true;
    }
}
