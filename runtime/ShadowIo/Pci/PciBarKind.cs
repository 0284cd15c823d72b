namespace ShadowIo.Pci;

/// <summary>The BAR types a served function can declare.</summary>
public enum PciBarKind
{
    /// <summary>A 32-bit, non-prefetchable memory BAR (below 4 GiB).</summary>
    Memory32,
    /// <summary>An I/O-space BAR (at most 64 KiB).</summary>
    Io,
    /// <summary>
    /// A 64-bit, non-prefetchable memory BAR: it takes its index and the next one (the upper half
    /// of the address), so it cannot be BAR5. vfio-user clients size it as one BAR.
    /// </summary>
    Memory64,
}
