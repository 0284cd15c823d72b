using ShadowIo.Pci;

namespace ShadowIo.Benchmarks.VfioUser;

/// <summary>
/// The device the out-of-process doorbell runs talk to: BAR0 with value doorbells of two widths
/// (row 0 is the doorbell benchmark's, a 4-byte value at offset 0), a notify doorbell with a
/// datamatch, and a register that raises an MSI-X vector; BAR4 holds the MSI-X table. What its
/// dispatch saw (writes no doorbell took) is kept for the report.
/// </summary>
public sealed class DoorbellDevice : IMmioDevice
{
    /// <summary>Writing vector v here raises MSI-X vector v.</summary>
    public const ulong RaiseVectorOffset = 0x3000;

    /// <summary>MSI-X vectors.</summary>
    public const int Vectors = 4;

    /// <summary>BAR0's doorbells, in row order.</summary>
    public static DoorbellTable Table { get; } = new("vfio-user doorbell device", 0x4000, 24,
    [
        new DoorbellEntry("Doorbell", 0, 0x0, 4, DoorbellKind.Value, false, 0, 0),
        new DoorbellEntry("SQ tail", 1, 0x1008, 4, DoorbellKind.Value, false, 0, 8),
        new DoorbellEntry("wide", 0, 0x1010, 8, DoorbellKind.Value, false, 0, 16),
        new DoorbellEntry("kick", 0, 0x2000, 2, DoorbellKind.Notify, true, 0x7, -1),
    ]);

    private readonly List<(ulong Offset, int Size, ulong Value)> _dispatched = [];

    /// <summary>Raises an MSI-X vector (the server's interrupts, once it exists).</summary>
    public Action<int>? RaiseVector { get; set; }

    /// <summary>Writes that reached the dispatch (not taken by a doorbell), in order.</summary>
    public (ulong Offset, int Size, ulong Value)[] Dispatched
    {
        get { lock (_dispatched) return [.. _dispatched]; }
    }

    /// <summary>The function to serve: BAR0 (64-bit) with <paramref name="doorbells"/>, BAR4 with <paramref name="msix"/>.</summary>
    public PciFunction Function(DoorbellSet doorbells, MsixTable msix) => new(
        new PciIdentity(0x1b36, 0x5350, 0xff0000),
        [new PciBar(0, PciBarKind.Memory64, Table.BlockSize, this, doorbells), new PciBar(4, PciBarKind.Memory32, msix.BarSize, msix)],
        Msix: PciMsix.InBar(4, msix));

    /// <summary>Registers read as their offset (so a read through REGION_READ is recognisable).</summary>
    public ulong ReadMmio(ulong offset, int size) => 0x5a00_0000UL | offset;

    /// <summary>Records the write; a write to <see cref="RaiseVectorOffset"/> raises that vector.</summary>
    public void WriteMmio(ulong offset, int size, ulong value)
    {
        lock (_dispatched) _dispatched.Add((offset, size, value));
        if (offset == RaiseVectorOffset) RaiseVector?.Invoke((int)value);
    }
}
