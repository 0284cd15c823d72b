using ShadowIo.Devices.Nvme;
using ShadowIo.Testing;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// What each guest access to NVMe BAR0 must read, from the register map (NVMe base spec 2.0,
/// section 3.1) and the state before a sweep: an access wholly inside one register reads its bytes
/// and writes them by its access rule; any other access (holes, doorbells, which are write-only,
/// straddling accesses, KVM's fragments of a page-crossing access) reads 0.
/// </summary>
/// <remarks>
/// CSTS is the controller's to change (a CC write enables, resets or shuts down), so only its
/// read-only rule is checked: a write to it changes nothing.
/// </remarks>
internal sealed class BarModel(ulong cap, uint vs, uint interruptMask, uint cc, uint aqa, ulong asq, ulong acq)
{
    private ulong _cap = cap, _asq = asq, _acq = acq;
    private uint _vs = vs, _mask = interruptMask, _cc = cc, _aqa = aqa;

    /// <summary>
    /// What reads before and after a write of <paramref name="value"/> return; null where the
    /// model does not know (CSTS).
    /// </summary>
    public (ulong? Before, ulong? After) Access(ulong offset, int size, ulong value, bool splitByKvm)
    {
        if (splitByKvm || Register(offset, size) is not { } start) return (0, 0);
        ulong relative = offset - start;
        return start switch
        {
            NvmeRegisters.CapOffset => Update(ref _cap, relative, size, r => r),
            NvmeRegisters.VsOffset => Update(ref _vs, relative, size, r => r),
            // INTMS and INTMC (sections 3.1.3, 3.1.4): writing 1 sets / clears a mask bit, 0 does nothing; both read the mask.
            NvmeRegisters.IntmsOffset => Update(ref _mask, relative, size, m => m | (uint)Place(value, relative, size)),
            NvmeRegisters.IntmcOffset => Update(ref _mask, relative, size, m => m & ~(uint)Place(value, relative, size)),
            NvmeRegisters.CcOffset => WriteCc(relative, size, value),
            NvmeRegisters.CstsOffset => (null, null),
            NvmeRegisters.NssrOffset => (0, 0), // CAP.NSSRS = 0: not supported, reads 0
            NvmeRegisters.AqaOffset => Update(ref _aqa, relative, size, r => (uint)Merge(r, relative, size, value)),
            NvmeRegisters.AsqOffset => Update(ref _asq, relative, size, r => Merge(r, relative, size, value)),
            NvmeRegisters.AcqOffset => Update(ref _acq, relative, size, r => Merge(r, relative, size, value)),
            _ => throw new InvalidOperationException($"register at 0x{start:x} is not modelled"),
        };
    }

    /// <summary>The offset of the register wholly containing the access, if one does.</summary>
    private static ulong? Register(ulong offset, int size)
    {
        foreach (var (start, width) in Registers)
            if (offset >= start && offset + (ulong)size <= start + (ulong)width) return start;
        return null;
    }

    private static readonly (ulong Offset, int Width)[] Registers =
    [
        (NvmeRegisters.CapOffset, 8), (NvmeRegisters.VsOffset, 4), (NvmeRegisters.IntmsOffset, 4), (NvmeRegisters.IntmcOffset, 4),
        (NvmeRegisters.CcOffset, 4), (NvmeRegisters.CstsOffset, 4), (NvmeRegisters.NssrOffset, 4), (NvmeRegisters.AqaOffset, 4),
        (NvmeRegisters.AsqOffset, 8), (NvmeRegisters.AcqOffset, 8),
    ];

    /// <summary>CC keeps what was written; EN 1 → 0 is a controller reset, which clears the interrupt mask.</summary>
    private (ulong?, ulong?) WriteCc(ulong relative, int size, ulong value)
    {
        ulong before = Extract(_cc, relative, size);
        uint written = (uint)Merge(_cc, relative, size, value);
        if ((_cc & 1) != 0 && (written & 1) == 0) _mask = 0;
        _cc = written;
        return (before, Extract(_cc, relative, size));
    }

    private static (ulong?, ulong?) Update(ref uint register, ulong relative, int size, Func<uint, uint> write)
    {
        ulong before = Extract(register, relative, size);
        register = write(register);
        return (before, Extract(register, relative, size));
    }

    private static (ulong?, ulong?) Update(ref ulong register, ulong relative, int size, Func<ulong, ulong> write)
    {
        ulong before = Extract(register, relative, size);
        register = write(register);
        return (before, Extract(register, relative, size));
    }

    private static ulong Extract(ulong register, ulong relative, int size) => (register >> (int)(8 * relative)) & DoorbellSequence.Mask(size);

    private static ulong Place(ulong value, ulong relative, int size) => (value & DoorbellSequence.Mask(size)) << (int)(8 * relative);

    private static ulong Merge(ulong register, ulong relative, int size, ulong value) =>
        (register & ~Place(ulong.MaxValue, relative, size)) | Place(value, relative, size);
}
