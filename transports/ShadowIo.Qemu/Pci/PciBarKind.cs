namespace ShadowIo.Qemu.Pci;

/// <summary>
/// The BAR types the proxy handles. There is deliberately no 64-bit memory BAR: QEMU 7.2's
/// proxy sizes each BAR dword on its own, so a 64-bit BAR0 is registered as a 32-bit BAR plus
/// a bogus I/O BAR1 (measured). A 32-bit BAR below 4 GiB is what the proxy gets right.
/// </summary>
public enum PciBarKind
{
    /// <summary>A 32-bit, non-prefetchable memory BAR: accesses arrive as BAR_READ/BAR_WRITE with a guest-physical address.</summary>
    Memory32,
    /// <summary>An I/O-space BAR: accesses arrive with a port number (at most 64 KiB).</summary>
    Io,
}
