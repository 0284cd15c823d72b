namespace ShadowIo.Binding;

/// <summary>
/// The VMM's map of x86 ports to devices: <see cref="MmioBus"/>'s rules in the 64 KiB port
/// space (firecracker keeps one bus type per space the same way). Port I/O blocks
/// (<c>[RegisterBlock(…, AddressSpace = AddressSpace.Port)]</c>) see offsets within their own
/// range, and a range's <see cref="DoorbellBinding"/> gets each <c>out</c> first. Lookups
/// allocate nothing and may run concurrently with <see cref="Add"/>/<see cref="Remove"/>.
/// </summary>
public sealed class PortBus
{
    /// <summary>The size of the x86 port space: ports 0x0000–0xFFFF.</summary>
    public const ulong PortSpaceSize = 0x10000;

    private readonly MmioBus _ranges = new(AddressSpace.Port);

    /// <summary>The windows now, sorted by first port (a snapshot: later changes do not alter it).</summary>
    public ReadOnlySpan<MmioBus.Range> Ranges => _ranges.Ranges;

    /// <summary>
    /// Maps <paramref name="device"/> at ports [<paramref name="port"/>, +<paramref name="size"/>);
    /// overlap, a range past port 0xFFFF, or an MMIO block's binding is an error.
    /// </summary>
    public void Add(ushort port, int size, IMmioDevice device, DoorbellBinding? doorbells)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _ranges.Add(port, (ulong)size, device, doorbells);
    }

    /// <summary>Maps a generated port I/O block over its declared size, with its doorbell binding.</summary>
    public void Add<TBlock>(ushort port, TBlock block, DoorbellBinding? doorbells) where TBlock : IRegisterBlock
    {
        if (TBlock.DoorbellTable.AddressSpace != AddressSpace.Port)
            throw new ArgumentException($"Block '{TBlock.DoorbellTable.BlockName}' is an MMIO block; declare it with AddressSpace = AddressSpace.Port to map it on ports.", nameof(block));
        _ranges.Add(port, TBlock.DoorbellTable.BlockSize, block, doorbells);
    }

    /// <summary>Unmaps the range starting at <paramref name="port"/>.</summary>
    public bool Remove(ushort port) => _ranges.Remove(port);

    /// <summary>
    /// A guest <c>in</c> of <paramref name="size"/> bytes; false when no device covers it (x86
    /// reads all-ones from an unclaimed port: the VMM returns that).
    /// </summary>
    public bool TryIn(ushort port, int size, out uint value)
    {
        bool found = _ranges.TryRead(port, size, out ulong read);
        value = (uint)read;
        return found;
    }

    /// <summary>A guest <c>out</c>: the range's doorbell binding first, then the device's dispatch; false when no device covers it.</summary>
    public bool TryOut(ushort port, int size, uint value) => _ranges.TryWrite(port, size, value);
}
