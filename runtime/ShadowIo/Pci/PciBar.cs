namespace ShadowIo.Pci;

/// <summary>
/// One base address register of the served function and what answers accesses inside it.
/// </summary>
/// <param name="Index">BAR number 0..5 (0..4 for <see cref="PciBarKind.Memory64"/>, which also takes the next).</param>
/// <param name="Kind">Memory (32- or 64-bit) or I/O space.</param>
/// <param name="Size">Power of two; at least 16 bytes for memory, 4 for I/O.</param>
/// <param name="Device">Receives accesses with offsets relative to the BAR base.</param>
/// <param name="Doorbells">
/// When set, writes to the doorbells in its table go to <see cref="DoorbellSet.TryHandleWrite"/>,
/// as a KVM exit in trap mode would: the value goes to the shadow page and the doorbell's eventfd
/// fires; the device's dispatch never sees them. A <see cref="DoorbellSet.CreateMappable"/> set
/// also has a vfio-user server offer its doorbell page for mmap, so the guest stores straight
/// into the shadow page and the device polls it.
/// </param>
/// <param name="DoorbellOffset">
/// Where the doorbell block of <paramref name="Doorbells"/> starts in the BAR: its table's offsets
/// are relative to it. 0 when the block is the whole BAR (NVMe's BAR0); a virtio-pci device's
/// notification region sits behind its configuration structures in the same BAR.
/// </param>
public sealed record PciBar(int Index, PciBarKind Kind, ulong Size, IMmioDevice Device, DoorbellSet? Doorbells = null, ulong DoorbellOffset = 0)
{
    /// <summary>BARs in a type-0 header (BAR0..BAR5).</summary>
    public const int Count = 6;

    /// <summary>Whether the BAR decodes memory space (32- or 64-bit).</summary>
    public bool IsMemory => Kind != PciBarKind.Io;

    internal void Validate()
    {
        int lastIndex = Kind == PciBarKind.Memory64 ? Count - 2 : Count - 1;
        if (Index < 0 || Index > lastIndex) throw new ArgumentOutOfRangeException(nameof(Index), Index, $"A {Kind} BAR's index must be 0..{lastIndex}.");
        ulong minimum = Kind == PciBarKind.Io ? 4UL : 16UL;
        ulong maximum = Kind switch
        {
            PciBarKind.Io => 0x10000UL,
            PciBarKind.Memory32 => 0x8000_0000UL,
            _ => 1UL << 40,
        };
        if (Size < minimum || Size > maximum || (Size & (Size - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(Size), Size, $"A {Kind} BAR must be a power of two in [{minimum}, {maximum}].");
        if (Doorbells != null && (DoorbellOffset > Size || Doorbells.Table.BlockSize > Size - DoorbellOffset))
            throw new ArgumentException($"BAR{Index} ({Size} bytes) does not hold block '{Doorbells.Table.BlockName}' ({Doorbells.Table.BlockSize} bytes) at 0x{DoorbellOffset:x}.");
        // A mappable set's memfd is laid out like the block; the server offers it as the BAR's
        // file at offset 0, which is the block's layout only when the block starts the BAR.
        if (Doorbells?.MappableOffset != null && (DoorbellOffset != 0 || Kind == PciBarKind.Io))
            throw new ArgumentException($"BAR{Index}'s doorbell page can be mapped only in a memory BAR whose doorbell block starts at offset 0 (it is at 0x{DoorbellOffset:x}).");
        if (Doorbells == null && DoorbellOffset != 0)
            throw new ArgumentException($"BAR{Index} has a doorbell offset but no doorbells.");
    }
}
