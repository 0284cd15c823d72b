namespace ShadowIo.Kvm;

/// <summary>
/// <c>KVM_CAP_*</c> numbers (include/uapi/linux/kvm.h) ShadowIo asks about with
/// <see cref="KvmSystem.CheckExtension"/>. The value of each member is the kernel's number.
/// </summary>
public enum KvmCapability
{
    /// <summary><c>KVM_CAP_USER_MEMORY</c>: memory slots backed by this process's mappings (<see cref="KvmVm.SetMemoryRegion"/>).</summary>
    UserMemory = 3,
    /// <summary><c>KVM_CAP_SET_TSS_ADDR</c>: the VM ioctl that places Intel's real-mode TSS pages.</summary>
    SetTssAddr = 4,
    /// <summary><c>KVM_CAP_EXT_CPUID</c>: <c>KVM_GET_SUPPORTED_CPUID</c> and <c>KVM_SET_CPUID2</c> (<see cref="KvmSystem.GetSupportedCpuid"/>).</summary>
    ExtCpuid = 7,
    /// <summary><c>KVM_CAP_NR_VCPUS</c>: the recommended number of vCPUs per VM.</summary>
    NrVcpus = 9,
    /// <summary><c>KVM_CAP_NR_MEMSLOTS</c>: the number of memory slots per VM.</summary>
    NrMemslots = 10,
    /// <summary><c>KVM_CAP_SYNC_MMU</c>: changes to this process's mappings reach the guest without re-registering slots.</summary>
    SyncMmu = 16,
    /// <summary><c>KVM_CAP_IOEVENTFD</c>: guest writes can signal an eventfd inside the kernel (<see cref="KvmVm.AssignIoEventFd"/>).</summary>
    IoEventFd = 36,
    /// <summary><c>KVM_CAP_MAX_VCPUS</c>: the most vCPUs one VM may have.</summary>
    MaxVcpus = 66,
    /// <summary><c>KVM_CAP_READONLY_MEM</c>: memory slots the guest may read but whose writes exit as MMIO.</summary>
    ReadonlyMem = 81,
    /// <summary><c>KVM_CAP_IOEVENTFD_NO_LENGTH</c> (x86, Linux 3.15): an MMIO wildcard ioeventfd may have len = 0 and then matches a write of any size.</summary>
    IoEventFdNoLength = 100,
    /// <summary><c>KVM_CAP_IOEVENTFD_ANY_LENGTH</c> (Linux 4.4, every architecture): a zero-length ioeventfd is accepted and ignores the write's size.</summary>
    IoEventFdAnyLength = 122,
    /// <summary><c>KVM_CAP_IMMEDIATE_EXIT</c>: <see cref="KvmVcpu.ImmediateExit"/> makes <c>KVM_RUN</c> return at once.</summary>
    ImmediateExit = 136,
}
