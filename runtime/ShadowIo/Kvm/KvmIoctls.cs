namespace ShadowIo.Kvm;

/// <summary>
/// Every KVM ioctl request number ShadowIo issues, computed with the kernel's
/// <c>_IOC(dir, type, nr, size)</c> encoding (include/uapi/asm-generic/ioctl.h, x86:
/// dir in bits 30-31, size in bits 16-29, type in bits 8-15, nr in bits 0-7).
/// Tests compare each number with the C headers.
/// </summary>
/// <remarks>
/// Internal, as rust-vmm's kvm-ioctls keeps its numbers private: a user calls the typed methods
/// of <see cref="KvmSystem"/>, <see cref="KvmVm"/> and <see cref="KvmVcpu"/>, never an ioctl.
/// </remarks>
internal static unsafe class KvmIoctls
{
    /// <summary>KVM's ioctl type byte (<c>KVMIO</c>).</summary>
    public const uint KvmIo = 0xAE;

    private const uint None = 0, Write = 1, Read = 2;

    private static int Ioc(uint direction, uint nr, int size) =>
        unchecked((int)((direction << 30) | ((uint)size << 16) | (KvmIo << 8) | nr));

    private static int Io(uint nr) => Ioc(None, nr, 0);
    private static int Ior<T>(uint nr) where T : unmanaged => Ioc(Read, nr, sizeof(T));
    private static int Iow<T>(uint nr) where T : unmanaged => Ioc(Write, nr, sizeof(T));
    private static int Iowr<T>(uint nr) where T : unmanaged => Ioc(Read | Write, nr, sizeof(T));

    // ---- system ioctls (/dev/kvm) ----

    /// <summary><c>KVM_GET_API_VERSION</c> = _IO(KVMIO, 0x00): always 12 on a stable kernel.</summary>
    public static readonly int GetApiVersion = Io(0x00);

    /// <summary><c>KVM_CREATE_VM</c> = _IO(KVMIO, 0x01): returns a VM fd; the argument is the machine type (0).</summary>
    public static readonly int CreateVm = Io(0x01);

    /// <summary><c>KVM_CHECK_EXTENSION</c> = _IO(KVMIO, 0x03): 0 when a capability is absent, else &gt; 0.</summary>
    public static readonly int CheckExtension = Io(0x03);

    /// <summary><c>KVM_GET_VCPU_MMAP_SIZE</c> = _IO(KVMIO, 0x04): bytes to mmap from a vCPU fd (kvm_run + pages after it).</summary>
    public static readonly int GetVcpuMmapSize = Io(0x04);

    /// <summary><c>KVM_GET_SUPPORTED_CPUID</c> = _IOWR(KVMIO, 0x05, struct kvm_cpuid2): header size only, entries follow.</summary>
    public static readonly int GetSupportedCpuid = Iowr<Native.KvmCpuid2>(0x05);

    // ---- VM ioctls ----

    /// <summary><c>KVM_CREATE_VCPU</c> = _IO(KVMIO, 0x41): the argument is the vCPU id.</summary>
    public static readonly int CreateVcpu = Io(0x41);

    /// <summary><c>KVM_SET_USER_MEMORY_REGION</c> = _IOW(KVMIO, 0x46, struct kvm_userspace_memory_region).</summary>
    public static readonly int SetUserMemoryRegion = Iow<Native.KvmUserspaceMemoryRegion>(0x46);

    /// <summary><c>KVM_SET_TSS_ADDR</c> = _IO(KVMIO, 0x47): three pages the Intel real-mode emulation needs.</summary>
    public static readonly int SetTssAddr = Io(0x47);

    /// <summary>
    /// <c>KVM_IOEVENTFD</c> = _IOW(KVMIO, 0x79, struct kvm_ioeventfd). The post-write layout is also 64
    /// bytes, so the same number carries both.
    /// </summary>
    public static readonly int IoEventFd = Iow<Native.KvmIoEventFd>(0x79);

    // ---- vCPU ioctls ----

    /// <summary><c>KVM_RUN</c> = _IO(KVMIO, 0x80): enters the guest until the next exit to userspace.</summary>
    public static readonly int Run = Io(0x80);

    /// <summary><c>KVM_GET_REGS</c> = _IOR(KVMIO, 0x81, struct kvm_regs).</summary>
    public static readonly int GetRegs = Ior<Native.KvmRegs>(0x81);

    /// <summary><c>KVM_SET_REGS</c> = _IOW(KVMIO, 0x82, struct kvm_regs).</summary>
    public static readonly int SetRegs = Iow<Native.KvmRegs>(0x82);

    /// <summary><c>KVM_GET_SREGS</c> = _IOR(KVMIO, 0x83, struct kvm_sregs).</summary>
    public static readonly int GetSregs = Ior<Native.KvmSregs>(0x83);

    /// <summary><c>KVM_SET_SREGS</c> = _IOW(KVMIO, 0x84, struct kvm_sregs).</summary>
    public static readonly int SetSregs = Iow<Native.KvmSregs>(0x84);

    /// <summary><c>KVM_SET_CPUID2</c> = _IOW(KVMIO, 0x90, struct kvm_cpuid2): header size only, entries follow.</summary>
    public static readonly int SetCpuid2 = Iow<Native.KvmCpuid2>(0x90);
}
