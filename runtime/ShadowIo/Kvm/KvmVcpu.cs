using ShadowIo.Native;
using ShadowIo.Kvm.Native;
using static Tmds.Linux.LibC;

namespace ShadowIo.Kvm;

/// <summary>
/// A vCPU fd and its mapped <c>kvm_run</c>. <see cref="Run"/> enters the guest and decodes the
/// exit; MMIO reads and port input are completed with <see cref="CompleteMmioRead"/> /
/// <see cref="CompleteIoIn"/> before the next <see cref="Run"/>. Use from one thread at a time.
/// </summary>
public sealed unsafe class KvmVcpu : IDisposable
{
    private readonly FileDescriptorHandle _fd;
    private KvmRun* _run;
    private int _disposed;
    private readonly int _runSize;

    internal KvmVcpu(KvmVm vm, int fd, int id, int runSize)
    {
        Vm = vm;
        _fd = new FileDescriptorHandle(fd);
        Id = id;
        _runSize = runSize;
        void* p = mmap(null, (Tmds.Linux.size_t)runSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
        {
            int e = errno;
            _fd.Dispose();
            throw KvmException.FromErrno($"mmap of vCPU {id}'s kvm_run ({runSize} bytes)", e);
        }
        _run = (KvmRun*)p;
    }

    /// <summary>The VM this vCPU belongs to.</summary>
    public KvmVm Vm { get; }

    /// <summary>The vCPU id given to <see cref="KvmVm.CreateVcpu"/>.</summary>
    public int Id { get; }

    /// <summary>The vCPU fd; valid until disposal. Internal: only the ioctls in this assembly use it.</summary>
    internal int Fd => !_fd.IsClosed ? _fd.Fd : throw new ObjectDisposedException(nameof(KvmVcpu));

    /// <summary>
    /// Enters the guest (<c>KVM_RUN</c>) until the next exit to userspace and decodes it. A signal
    /// or <see cref="ImmediateExit"/> returns <see cref="VcpuExitKind.Interrupted"/> (EINTR/EAGAIN),
    /// not an exception. Allocates nothing.
    /// </summary>
    /// <exception cref="KvmException">KVM_RUN failed for another reason (e.g. invalid guest state the kernel rejects).</exception>
    public VcpuExit Run()
    {
        if (ioctl(Fd, KvmIoctls.Run, 0) < 0)
        {
            int e = errno;
            if (e is Errno.EINTR or Errno.EAGAIN) return VcpuExit.Simple(VcpuExitKind.Interrupted, 0);
            throw KvmException.FromErrno($"KVM_RUN on vCPU {Id}", e);
        }
        KvmRun* run = _run;
        uint reason = run->ExitReason;
        switch (reason)
        {
            case KvmExitReasons.Mmio:
            {
                // Any length 1..8: KVM splits a store that crosses a page into fragments of the
                // bytes on each side (an 8-byte store at 0xFFD exits as 3 bytes, then 5).
                int len = (int)run->Mmio.Len;
                ulong data = len switch { >= 8 => run->Mmio.Data, >= 1 => run->Mmio.Data & ((1UL << (8 * len)) - 1), _ => 0 };
                return VcpuExit.Mmio(run->Mmio.IsWrite != 0, run->Mmio.PhysAddr, len, data);
            }
            case KvmExitReasons.Io:
            {
                ref readonly var io = ref run->Io;
                bool isOut = io.Direction == KvmExitReasons.IoOut;
                ulong data = isOut && io.DataOffset < (ulong)_runSize ? ReadData((byte*)run + io.DataOffset, io.Size) : 0;
                return VcpuExit.Io(isOut, io.Port, io.Size, io.Count, data);
            }
            case KvmExitReasons.Hlt: return VcpuExit.Simple(VcpuExitKind.Hlt, reason);
            case KvmExitReasons.Shutdown: return VcpuExit.Simple(VcpuExitKind.Shutdown, reason);
            case KvmExitReasons.FailEntry: return VcpuExit.Simple(VcpuExitKind.FailEntry, reason, run->FailEntry.HardwareEntryFailureReason);
            case KvmExitReasons.InternalError: return VcpuExit.Simple(VcpuExitKind.InternalError, reason, run->Internal.Suberror);
            case KvmExitReasons.SystemEvent: return VcpuExit.Simple(VcpuExitKind.SystemEvent, reason, run->SystemEvent.Type);
            case KvmExitReasons.Intr: return VcpuExit.Simple(VcpuExitKind.Interrupted, reason);
            case KvmExitReasons.Exception: return VcpuExit.Simple(VcpuExitKind.Exception, reason);
            case KvmExitReasons.Debug: return VcpuExit.Simple(VcpuExitKind.Debug, reason);
            default: return VcpuExit.Simple(VcpuExitKind.Unknown, reason);
        }
    }

    /// <summary>Supplies the value of the pending MMIO read; KVM hands it to the guest on the next <see cref="Run"/>.</summary>
    public void CompleteMmioRead(ulong value) => Volatile.Write(ref _run->Mmio.Data, value);

    /// <summary>
    /// Supplies the value of the pending port input (first element; only the exit's size in bytes
    /// is stored); KVM hands it to the guest on the next <see cref="Run"/>.
    /// </summary>
    public void CompleteIoIn(ulong value)
    {
        ref var io = ref _run->Io;
        if (io.DataOffset + io.Size <= (ulong)_runSize) WriteData((byte*)_run + io.DataOffset, io.Size, value);
    }

    /// <summary>
    /// The data area of the pending port I/O exit, inside <c>kvm_run</c>: <see cref="VcpuExit.Count"/>
    /// elements of <see cref="VcpuExit.Size"/> bytes each (string <c>ins</c>/<c>outs</c> with a
    /// <c>rep</c> prefix move several in one exit). Output: what the guest wrote. Input: fill it,
    /// and KVM hands it to the guest on the next <see cref="Run"/>. Empty when the last exit was
    /// not port I/O, or the kernel's offset and length would leave the mapped page. Valid until
    /// the next <see cref="Run"/>.
    /// </summary>
    public Span<byte> IoData
    {
        get
        {
            KvmRun* run = _run;
            if (run == null || run->ExitReason != KvmExitReasons.Io) return default;
            ref readonly var io = ref run->Io;
            ulong length = (ulong)io.Size * io.Count;
            return io.DataOffset <= (ulong)_runSize && length <= (ulong)_runSize - io.DataOffset
                ? new Span<byte>((byte*)run + io.DataOffset, (int)length)
                : default;
        }
    }

    /// <summary>
    /// Sets <c>kvm_run.immediate_exit</c>: while set, <see cref="Run"/> returns
    /// <see cref="VcpuExitKind.Interrupted"/> without entering the guest.
    /// </summary>
    public bool ImmediateExit
    {
        get => _run->ImmediateExit != 0;
        set => Volatile.Write(ref _run->ImmediateExit, value ? (byte)1 : (byte)0);
    }

    /// <summary>The general-purpose registers, RIP and RFLAGS (<c>KVM_GET_REGS</c>).</summary>
    /// <exception cref="KvmException">The ioctl failed.</exception>
    public KvmRegs GetRegisters()
    {
        KvmRegs regs;
        if (ioctl(Fd, KvmIoctls.GetRegs, &regs) != 0) throw KvmException.FromErrno($"KVM_GET_REGS on vCPU {Id}", errno);
        return regs;
    }

    /// <summary>Replaces the general-purpose registers, RIP and RFLAGS (<c>KVM_SET_REGS</c>), between runs.</summary>
    /// <exception cref="KvmException">The ioctl failed.</exception>
    public void SetRegisters(in KvmRegs regs)
    {
        fixed (KvmRegs* p = &regs)
            if (ioctl(Fd, KvmIoctls.SetRegs, p) != 0) throw KvmException.FromErrno($"KVM_SET_REGS on vCPU {Id}", errno);
    }

    /// <summary>Segments, descriptor tables, control registers and EFER (<c>KVM_GET_SREGS</c>).</summary>
    /// <exception cref="KvmException">The ioctl failed.</exception>
    public KvmSregs GetSpecialRegisters()
    {
        KvmSregs sregs;
        if (ioctl(Fd, KvmIoctls.GetSregs, &sregs) != 0) throw KvmException.FromErrno($"KVM_GET_SREGS on vCPU {Id}", errno);
        return sregs;
    }

    /// <summary>
    /// Replaces segments, descriptor tables, control registers and EFER (<c>KVM_SET_SREGS</c>),
    /// between runs; an inconsistent state shows up as <see cref="VcpuExitKind.FailEntry"/> on the next run.
    /// </summary>
    /// <exception cref="KvmException">The kernel rejected the state (e.g. reserved CR bits).</exception>
    public void SetSpecialRegisters(in KvmSregs sregs)
    {
        fixed (KvmSregs* p = &sregs)
            if (ioctl(Fd, KvmIoctls.SetSregs, p) != 0) throw KvmException.FromErrno($"KVM_SET_SREGS on vCPU {Id}", errno);
    }

    /// <summary>Sets the CPUID the guest sees (<c>KVM_SET_CPUID2</c>), e.g. <see cref="KvmSystem.GetSupportedCpuid"/>; before the first run.</summary>
    /// <exception cref="KvmException">The kernel rejected the entries (too many, or entries that differ from the first set once the vCPU has run).</exception>
    public void SetCpuid(ReadOnlySpan<KvmCpuidEntry2> entries)
    {
        int bytes = sizeof(KvmCpuid2) + entries.Length * sizeof(KvmCpuidEntry2);
        byte[] storage = new byte[bytes];
        fixed (byte* p = storage)
        {
            ((KvmCpuid2*)p)->Nent = (uint)entries.Length;
            entries.CopyTo(new Span<KvmCpuidEntry2>(p + sizeof(KvmCpuid2), entries.Length));
            if (ioctl(Fd, KvmIoctls.SetCpuid2, p) != 0)
                throw KvmException.FromErrno($"KVM_SET_CPUID2 ({entries.Length} entries) on vCPU {Id}", errno);
        }
    }

    /// <summary>Unmaps <c>kvm_run</c> and closes the vCPU fd, once, whichever thread gets here first. Not while another thread is in <see cref="Run"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        munmap(_run, (Tmds.Linux.size_t)_runSize);
        _run = null;
        _fd.Dispose();
    }

    private static ulong ReadData(void* p, int size) => size switch
    {
        1 => *(byte*)p,
        2 => *(ushort*)p,
        4 => *(uint*)p,
        8 => *(ulong*)p,
        _ => 0,
    };

    private static void WriteData(void* p, int size, ulong value)
    {
        switch (size)
        {
            case 1: *(byte*)p = (byte)value; break;
            case 2: *(ushort*)p = (ushort)value; break;
            case 4: *(uint*)p = (uint)value; break;
            case 8: *(ulong*)p = value; break;
        }
    }
}
