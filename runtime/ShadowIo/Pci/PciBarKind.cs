namespace ShadowIo.Pci;

/// <summary>The BAR types a served function can declare.</summary>
public enum PciBarKind
{
    /// <summary>A 32-bit, non-prefetchable memory BAR (below 4 GiB). The one memory kind QEMU 7.2's proxy gets right.</summary>
    Memory32,
    /// <summary>An I/O-space BAR (at most 64 KiB).</summary>
    Io,
    /// <summary>
    /// A 64-bit, non-prefetchable memory BAR: it takes its index and the next one (the upper half
    /// of the address), so it cannot be BAR5. Not for QEMU 7.2's proxy, which sizes each BAR dword
    /// on its own and registers a 64-bit BAR as a 32-bit BAR plus a bogus I/O BAR (measured); the
    /// proxy server refuses it. vfio-user clients size it as one BAR.
    /// </summary>
    Memory64,
}
