using System.Buffers.Binary;

namespace ShadowIo.Pci;

/// <summary>
/// A conventional (256-byte) type-0 PCI configuration space: identity registers read-only,
/// command/cache line/latency/interrupt line writable, BARs sized by their writable mask.
/// </summary>
/// <remarks>
/// <para>Every byte has a writable mask, so a write merges <c>(old &amp; ~mask) | (value &amp; mask)</c>
/// byte by byte. That one rule gives BAR sizing for free: writing all ones reads back
/// <c>~(size - 1)</c> with the type bits, which is how the guest's PCI core discovers the size. A 64-bit BAR's upper dword is all writable (below 4 GiB of
/// size), so the pair reads back the 64-bit <c>~(size - 1)</c>. When the function has MSI-X or other
/// capabilities (<see cref="PciCapability"/>, e.g. virtio's vendor capabilities), the status
/// register's Capabilities List bit is set; MSI-X comes first, at <see cref="MsixCapabilityOffset"/>,
/// the others follow 4-byte aligned, chained in the order given.</para>
/// <para>A transport owns it: config writes, routing, reset and the interrupt-status bit are
/// internal to the transports. A device only reads it (command bits, BAR bases, MSI-X enable).</para>
/// <para>Threading: the server thread reads and writes config space; device threads read it
/// (command bits, BAR bases, MSI-X enable). Every access to the bytes takes this space's lock, so
/// a read never sees a half-applied write or reset.</para>
/// </remarks>
public sealed class PciConfigSpace
{
    /// <summary>Bytes of a conventional configuration space.</summary>
    public const int Size = 256;

    // Offsets from the PCI Local Bus specification 3.0, §6.1, type-0 header.

    /// <summary>Vendor ID (16 bits, read-only).</summary>
    public const int VendorIdOffset = 0x00;
    /// <summary>Device ID (16 bits, read-only).</summary>
    public const int DeviceIdOffset = 0x02;
    /// <summary>Command register (16 bits): see the <c>Command*</c> bits.</summary>
    public const int CommandOffset = 0x04;
    /// <summary>Status register (16 bits, read-only here): Capabilities List when the function has any.</summary>
    public const int StatusOffset = 0x06;
    /// <summary>Revision ID (8 bits, read-only).</summary>
    public const int RevisionIdOffset = 0x08;
    /// <summary>Class code (24 bits, read-only): programming interface, sub-class, base class.</summary>
    public const int ClassCodeOffset = 0x09;
    /// <summary>Cache line size (8 bits, writable, no effect here).</summary>
    public const int CacheLineSizeOffset = 0x0c;
    /// <summary>Latency timer (8 bits, writable, no effect here).</summary>
    public const int LatencyTimerOffset = 0x0d;
    /// <summary>Header type (8 bits): 0, a single-function type-0 header.</summary>
    public const int HeaderTypeOffset = 0x0e;
    /// <summary>BAR0 (32 bits); BAR n is at <c>Bar0Offset + 4 * n</c>.</summary>
    public const int Bar0Offset = 0x10;
    /// <summary>Expansion ROM base address (32 bits): no ROM here, so it reads 0 and sizes to 0.</summary>
    public const int RomBaseOffset = 0x30;
    /// <summary>Capabilities pointer (8 bits): the first capability, when <see cref="StatusCapabilitiesList"/> is set.</summary>
    public const int CapabilitiesPointerOffset = 0x34;
    /// <summary>Subsystem vendor ID (16 bits, read-only).</summary>
    public const int SubsystemVendorIdOffset = 0x2c;
    /// <summary>Subsystem ID (16 bits, read-only).</summary>
    public const int SubsystemIdOffset = 0x2e;
    /// <summary>Interrupt line (8 bits, writable): the IRQ routing the guest's firmware wrote, not used by the device.</summary>
    public const int InterruptLineOffset = 0x3c;
    /// <summary>Interrupt pin (8 bits, read-only): 1 = INTA# … 4 = INTD#, 0 = none.</summary>
    public const int InterruptPinOffset = 0x3d;

    /// <summary>Command bit 0, I/O Space: the function answers accesses to its I/O BARs.</summary>
    public const ushort CommandIoSpace = 1 << 0;
    /// <summary>Command bit 1, Memory Space: the function answers accesses to its memory BARs.</summary>
    public const ushort CommandMemorySpace = 1 << 1;
    /// <summary>Command bit 2, Bus Master: the function may access guest memory (DMA); a device should check it.</summary>
    public const ushort CommandBusMaster = 1 << 2;
    /// <summary>Command bit 10, Interrupt Disable: INTx is masked while set.</summary>
    public const ushort CommandInterruptDisable = 1 << 10;
    /// <summary>Status bit 3, Interrupt Status: the function's INTx is asserted (whatever the disable bit says).</summary>
    public const ushort StatusInterrupt = 1 << 3;
    /// <summary>Status bit 4, Capabilities List: <see cref="CapabilitiesPointerOffset"/> is valid.</summary>
    public const ushort StatusCapabilitiesList = 1 << 4;

    /// <summary>Where the MSI-X capability sits when the function has one (the first byte after the type-0 header).</summary>
    public const int MsixCapabilityOffset = 0x40;
    /// <summary>Capability ID of MSI-X (PCI Local Bus 3.0, §6.8.2).</summary>
    public const byte MsixCapabilityId = 0x11;
    /// <summary>Bytes of the MSI-X capability: ID, next, Message Control, Table Offset/BIR, PBA Offset/BIR.</summary>
    public const int MsixCapabilitySize = 12;
    /// <summary>Message Control bit 15, MSI-X Enable.</summary>
    public const ushort MsixControlEnable = 1 << 15;
    /// <summary>Message Control bit 14, Function Mask: every vector masked.</summary>
    public const ushort MsixControlFunctionMask = 1 << 14;

    private readonly Lock _gate = new();
    private readonly byte[] _bytes = new byte[Size];
    private readonly byte[] _writable = new byte[Size];
    private readonly byte[] _reset = new byte[Size];
    private readonly PciBar?[] _bars = new PciBar?[PciBar.Count];
    /// <summary>Slots taken by the upper dword of a 64-bit BAR below them.</summary>
    private readonly bool[] _upperHalf = new bool[PciBar.Count];

    /// <summary>Builds the power-on space for a function; validates every BAR and the MSI-X placement (a server's constructor calls it).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An interrupt pin over 4, or a BAR with a bad index or size.</exception>
    /// <exception cref="ArgumentException">Two BARs on the same index (a 64-bit BAR takes two), a BAR smaller than its doorbell block, an MSI-X vector count out of range or a table or PBA that does not fit its BAR, or capabilities that do not fit the 256 bytes.</exception>
    internal PciConfigSpace(PciIdentity identity, IReadOnlyList<PciBar> bars, PciMsix? msix = null, IReadOnlyList<PciCapability>? capabilities = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(bars);
        if (identity.InterruptPin > 4) throw new ArgumentOutOfRangeException(nameof(identity), "Interrupt pin must be 0..4.");
        BinaryPrimitives.WriteUInt16LittleEndian(_reset.AsSpan(VendorIdOffset), identity.VendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(_reset.AsSpan(DeviceIdOffset), identity.DeviceId);
        _reset[RevisionIdOffset] = identity.RevisionId;
        _reset[ClassCodeOffset] = (byte)identity.ClassCode;
        _reset[ClassCodeOffset + 1] = (byte)(identity.ClassCode >> 8);
        _reset[ClassCodeOffset + 2] = (byte)(identity.ClassCode >> 16);
        BinaryPrimitives.WriteUInt16LittleEndian(_reset.AsSpan(SubsystemVendorIdOffset), identity.SubsystemVendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(_reset.AsSpan(SubsystemIdOffset), identity.SubsystemId);
        _reset[InterruptPinOffset] = identity.InterruptPin;

        BinaryPrimitives.WriteUInt16LittleEndian(_writable.AsSpan(CommandOffset),
            CommandIoSpace | CommandMemorySpace | CommandBusMaster | CommandInterruptDisable);
        _writable[CacheLineSizeOffset] = 0xff;
        _writable[LatencyTimerOffset] = 0xff;
        _writable[InterruptLineOffset] = 0xff;

        foreach (var bar in bars)
        {
            ArgumentNullException.ThrowIfNull(bar);
            bar.Validate();
            if (_bars[bar.Index] != null || _upperHalf[bar.Index]) throw new ArgumentException($"BAR{bar.Index} is declared twice.", nameof(bars));
            if (bar.Kind == PciBarKind.Memory64 && (_bars[bar.Index + 1] != null || _upperHalf[bar.Index + 1]))
                throw new ArgumentException($"BAR{bar.Index + 1} is declared twice (the upper half of 64-bit BAR{bar.Index}).", nameof(bars));
            _bars[bar.Index] = bar;
            int offset = Bar0Offset + 4 * bar.Index;
            // Type bits: I/O bit 0; memory bits 2:1 = 00 (32-bit) or 10 (64-bit), not prefetchable.
            uint typeBits = bar.Kind switch { PciBarKind.Io => 1u, PciBarKind.Memory64 => 0x4u, _ => 0u };
            uint lowBits = bar.Kind == PciBarKind.Io ? 0x3u : 0xfu;
            BinaryPrimitives.WriteUInt32LittleEndian(_reset.AsSpan(offset), typeBits);
            BinaryPrimitives.WriteUInt32LittleEndian(_writable.AsSpan(offset), ~(uint)(bar.Size - 1) & ~lowBits);
            if (bar.Kind == PciBarKind.Memory64)
            {
                _upperHalf[bar.Index + 1] = true;
                BinaryPrimitives.WriteUInt32LittleEndian(_writable.AsSpan(offset + 4), ~(uint)((bar.Size - 1) >> 32));
            }
        }
        // The list: MSI-X first (at MsixCapabilityOffset, where the transports expect it), then the
        // function's other capabilities, each 4-byte aligned (§6.7), chained by their next pointers.
        int at = MsixCapabilityOffset;
        int previousNext = CapabilitiesPointerOffset;
        if (msix != null)
        {
            msix.Validate(bars);
            Msix = msix;
            var cap = _reset.AsSpan(MsixCapabilityOffset);
            cap[0] = MsixCapabilityId;
            BinaryPrimitives.WriteUInt16LittleEndian(cap[2..], (ushort)(msix.VectorCount - 1));
            BinaryPrimitives.WriteUInt32LittleEndian(cap[4..], msix.TableOffset | (uint)msix.TableBar);
            BinaryPrimitives.WriteUInt32LittleEndian(cap[8..], msix.PbaOffset | (uint)msix.PbaBar);
            BinaryPrimitives.WriteUInt16LittleEndian(_writable.AsSpan(MsixCapabilityOffset + 2), MsixControlEnable | MsixControlFunctionMask);
            _reset[previousNext] = MsixCapabilityOffset;
            previousNext = MsixCapabilityOffset + 1;
            at = MsixCapabilityOffset + MsixCapabilitySize;
        }
        foreach (var capability in capabilities ?? [])
        {
            ArgumentNullException.ThrowIfNull(capability);
            ArgumentNullException.ThrowIfNull(capability.Body, nameof(capabilities));
            at = (at + 3) & ~3;
            if (at + capability.Length > Size)
                throw new ArgumentException($"Capability 0x{capability.Id:x2} ({capability.Length} bytes) does not fit the 256-byte configuration space at 0x{at:x}.", nameof(capabilities));
            _reset[at] = capability.Id;
            capability.Body.CopyTo(_reset.AsSpan(at + 2));
            _reset[previousNext] = (byte)at;
            previousNext = at + 1;
            at += capability.Length;
        }
        if (previousNext != CapabilitiesPointerOffset)
        {
            ushort status = BinaryPrimitives.ReadUInt16LittleEndian(_reset.AsSpan(StatusOffset));
            BinaryPrimitives.WriteUInt16LittleEndian(_reset.AsSpan(StatusOffset), (ushort)(status | StatusCapabilitiesList));
        }
        Reset();
    }

    /// <summary>The MSI-X capability, when the function has one.</summary>
    public PciMsix? Msix { get; }

    /// <summary>Whether the guest set MSI-X Enable (false without the capability).</summary>
    public bool MsixEnabled => Msix != null && (Read(MsixCapabilityOffset + 2, 2) & MsixControlEnable) != 0;

    /// <summary>Whether the guest set MSI-X Function Mask (false without the capability).</summary>
    public bool MsixFunctionMasked => Msix != null && (Read(MsixCapabilityOffset + 2, 2) & MsixControlFunctionMask) != 0;

    /// <summary>A snapshot of all 256 bytes as the guest would read them now.</summary>
    public ReadOnlySpan<byte> Bytes
    {
        get { lock (_gate) return _bytes.ToArray(); }
    }

    /// <summary>The command register as the guest last wrote it (0 after reset).</summary>
    public ushort Command
    {
        get { lock (_gate) return BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(CommandOffset)); }
    }

    /// <summary>Whether <see cref="CommandMemorySpace"/> is set.</summary>
    public bool MemorySpaceEnabled => (Command & CommandMemorySpace) != 0;

    /// <summary>Whether <see cref="CommandIoSpace"/> is set.</summary>
    public bool IoSpaceEnabled => (Command & CommandIoSpace) != 0;

    /// <summary>Whether <see cref="CommandInterruptDisable"/> is set (INTx masked).</summary>
    public bool InterruptDisabled => (Command & CommandInterruptDisable) != 0;

    /// <summary>The BAR declared at <paramref name="index"/>, if any.</summary>
    public PciBar? GetBar(int index) => (uint)index < PciBar.Count ? _bars[index] : null;

    /// <summary>The base the guest (or QEMU's probe) last programmed into a BAR, type bits masked off (0 while unassigned).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No BAR is declared at <paramref name="index"/>.</exception>
    public ulong GetBarBase(int index)
    {
        var bar = GetBar(index) ?? throw new ArgumentOutOfRangeException(nameof(index), index, "No such BAR.");
        ulong raw;
        lock (_gate)
        {
            raw = BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(Bar0Offset + 4 * index));
            if (bar.Kind == PciBarKind.Memory64)
                raw |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(Bar0Offset + 4 * index + 4)) << 32;
        }
        ulong lowBits = bar.Kind == PciBarKind.Io ? 0x3u : 0xfu;
        return raw & ~lowBits;
    }

    /// <summary>
    /// Finds the BAR that contains [address, address + size) in the given space; the returned
    /// offset is relative to the BAR base. A BAR still being sized (all ones) or at 0 matches nothing.
    /// </summary>
    internal bool TryRoute(ulong address, uint size, bool memory, out PciBar bar, out ulong offset)
    {
        foreach (var candidate in _bars)
        {
            if (candidate == null || candidate.IsMemory != memory) continue;
            ulong barBase = GetBarBase(candidate.Index);
            if (barBase == 0) continue;
            ulong delta = address - barBase;
            if (address >= barBase && delta < candidate.Size && size <= candidate.Size - delta)
            {
                bar = candidate;
                offset = delta;
                return true;
            }
        }
        bar = null!;
        offset = 0;
        return false;
    }

    /// <summary>Whether a config access is well formed: 1, 2 or 4 bytes wholly inside the 256-byte space.</summary>
    public static bool IsValidAccess(uint address, int length) =>
        length is 1 or 2 or 4 && address < Size && length <= Size - (int)address;

    /// <summary>Reads <paramref name="length"/> bytes little-endian; call <see cref="IsValidAccess"/> first.</summary>
    public uint Read(uint address, int length)
    {
        if (!IsValidAccess(address, length)) return uint.MaxValue;
        uint value = 0;
        lock (_gate)
        {
            for (int i = 0; i < length; i++) value |= (uint)_bytes[address + i] << (8 * i);
        }
        return value;
    }

    /// <summary>Merges a write through the writable mask; returns false (ignored) for a malformed access.</summary>
    internal bool Write(uint address, uint value, int length)
    {
        if (!IsValidAccess(address, length)) return false;
        lock (_gate)
        {
            for (int i = 0; i < length; i++)
            {
                int at = (int)address + i;
                byte mask = _writable[at];
                if (mask == 0) continue;
                _bytes[at] = (byte)((_bytes[at] & ~mask) | ((byte)(value >> (8 * i)) & mask));
            }
        }
        return true;
    }

    /// <summary>Power-on state: command 0, BARs unassigned, interrupt line 0.</summary>
    internal void Reset()
    {
        lock (_gate) _reset.CopyTo(_bytes, 0);
    }
}
