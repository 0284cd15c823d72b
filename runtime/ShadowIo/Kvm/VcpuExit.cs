namespace ShadowIo.Kvm;

/// <summary>
/// One exit from <see cref="KvmVcpu.Run"/>, decoded from <c>kvm_run</c>: a value (no allocation)
/// whose meaningful members depend on <see cref="Kind"/>.
/// </summary>
public readonly struct VcpuExit
{
    private VcpuExit(VcpuExitKind kind, uint rawReason, ulong address = 0, int size = 0, ulong data = 0, uint count = 0, ulong detail = 0)
    {
        Kind = kind;
        RawReason = rawReason;
        Address = address;
        Size = size;
        Data = data;
        Count = count;
        Detail = detail;
    }

    /// <summary>Why the vCPU stopped; says which other members carry meaning.</summary>
    public VcpuExitKind Kind { get; }

    /// <summary>The <c>KVM_EXIT_*</c> number as the kernel reported it.</summary>
    public uint RawReason { get; }

    /// <summary>MMIO: the guest-physical address. Port I/O: the port.</summary>
    public ulong Address { get; }

    /// <summary>MMIO and port I/O: access size in bytes.</summary>
    public int Size { get; }

    /// <summary>MMIO write and port output: the value written (first element for string I/O), zero-extended.</summary>
    public ulong Data { get; }

    /// <summary>Port I/O: element count (string instructions repeat).</summary>
    public uint Count { get; }

    /// <summary>FailEntry: hardware entry failure reason. InternalError: suberror. SystemEvent: type.</summary>
    public ulong Detail { get; }

    /// <summary>Whether this is an MMIO read or write exit (<see cref="VcpuExitKind.MmioRead"/> or <see cref="VcpuExitKind.MmioWrite"/>).</summary>
    public bool IsMmio => Kind is VcpuExitKind.MmioRead or VcpuExitKind.MmioWrite;

    /// <summary>KVM_EXIT_INTERNAL_ERROR suberror (1 = emulation failure, 2 = simultaneous exceptions, 3 = delivery event).</summary>
    public uint Suberror => Kind == VcpuExitKind.InternalError ? (uint)Detail : 0;

    internal static VcpuExit Mmio(bool isWrite, ulong gpa, int size, ulong data) =>
        new(isWrite ? VcpuExitKind.MmioWrite : VcpuExitKind.MmioRead, KvmExitReasons.Mmio, gpa, size, data);

    internal static VcpuExit Io(bool isOut, ushort port, int size, uint count, ulong data) =>
        new(isOut ? VcpuExitKind.IoOut : VcpuExitKind.IoIn, KvmExitReasons.Io, port, size, data, count);

    internal static VcpuExit Simple(VcpuExitKind kind, uint rawReason, ulong detail = 0) => new(kind, rawReason, detail: detail);

    /// <summary>The exit in words with its addresses and values in hex, e.g. "MMIO write of 4 bytes at 0xfe001000, value 0x3".</summary>
    public override string ToString() => Kind switch
    {
        VcpuExitKind.MmioRead => $"MMIO read of {Size} bytes at 0x{Address:x}",
        VcpuExitKind.MmioWrite => $"MMIO write of {Size} bytes at 0x{Address:x}, value 0x{Data:x}",
        VcpuExitKind.IoIn => $"port input of {Size} bytes from 0x{Address:x}",
        VcpuExitKind.IoOut => $"port output of {Size} bytes to 0x{Address:x}, value 0x{Data:x}",
        VcpuExitKind.FailEntry => $"failed VM entry, hardware reason 0x{Detail:x}",
        VcpuExitKind.InternalError => $"KVM internal error, suberror {Detail}",
        VcpuExitKind.SystemEvent => $"system event type {Detail}",
        VcpuExitKind.Unknown => $"exit reason {RawReason}",
        _ => Kind.ToString(),
    };
}
