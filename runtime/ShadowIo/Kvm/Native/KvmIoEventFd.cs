using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary>
/// Mainline <c>struct kvm_ioeventfd</c>: datamatch @0, addr @8, len @16, fd @20, flags @24,
/// pad[36] @28; 64 bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmIoEventFd
{
    public ulong DataMatch;
    /// <summary>Guest-physical MMIO address or PIO port.</summary>
    public ulong Addr;
    /// <summary>1, 2, 4 or 8; 0 matches any length (MMIO only).</summary>
    public uint Len;
    public int Fd;
    public uint Flags;
    public Pad36 Pad;

    [InlineArray(36)]
    public struct Pad36
    {
        private byte _byte;
    }
}

/// <summary>
/// <c>struct kvm_ioeventfd</c> as the revised post-write patch ("KVM: optionally post write on
/// ioeventfd write", 2026-03) lays it out: <c>u64 post_addr</c> right after <c>flags</c>. C
/// alignment puts it at 32 (flags ends at 28; four implicit bytes pad a u64 to its 8-byte
/// boundary), pad[24] @40, still 64 bytes, so <c>KVM_IOEVENTFD</c> keeps its number. The seed
/// RFC's layout (<c>vaddr</c> after <c>addr</c>) moved len/fd/flags and was dropped upstream.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmIoEventFdPostWrite
{
    public ulong DataMatch;
    public ulong Addr;
    public uint Len;
    public int Fd;
    public uint Flags;
    private uint _alignment;
    /// <summary>Host user address KVM copies the written value to before signalling the eventfd.</summary>
    public ulong PostAddr;
    public Pad24 Pad;

    [InlineArray(24)]
    public struct Pad24
    {
        private byte _byte;
    }
}

/// <summary><c>KVM_IOEVENTFD_FLAG_*</c> bits (bit numbers from the kernel's <c>kvm_ioeventfd_flag_nr_*</c> enum).</summary>
[Flags]
internal enum KvmIoEventFdFlags : uint
{
    None = 0,
    /// <summary>Only a write of exactly <c>datamatch</c> fires.</summary>
    DataMatch = 1 << 0,
    /// <summary>Port I/O instead of MMIO.</summary>
    Pio = 1 << 1,
    /// <summary>Remove a registration (matched on addr, len, fd and datamatch).</summary>
    Deassign = 1 << 2,
    VirtioCcwNotify = 1 << 3,
    /// <summary>Bit 4 (<c>kvm_ioeventfd_flag_nr_fast_mmio</c>) exists in the enum but is not a valid flag.</summary>
    FastMmio = 1 << 4,
    /// <summary>Revised post-write patch: copy the value to <c>post_addr</c>, then signal. Not in mainline.</summary>
    PostWrite = 1 << 5,
}
