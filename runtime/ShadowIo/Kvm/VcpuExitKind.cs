namespace ShadowIo.Kvm;

/// <summary>Why <see cref="KvmVcpu.Run"/> returned (the <c>KVM_EXIT_*</c> reasons a VMM handles).</summary>
public enum VcpuExitKind
{
    /// <summary>A reason ShadowIo does not decode; see <see cref="VcpuExit.RawReason"/>.</summary>
    Unknown,
    /// <summary>Guest read of an address no memory slot or ioeventfd covers (KVM_EXIT_MMIO, is_write = 0).</summary>
    MmioRead,
    /// <summary>Guest write of an address no memory slot or ioeventfd covers (KVM_EXIT_MMIO, is_write = 1).</summary>
    MmioWrite,
    /// <summary>Port input (KVM_EXIT_IO, direction in).</summary>
    IoIn,
    /// <summary>Port output (KVM_EXIT_IO, direction out): the test harness's finish marker.</summary>
    IoOut,
    /// <summary>The guest executed HLT (KVM_EXIT_HLT).</summary>
    Hlt,
    /// <summary>Triple fault or similar (KVM_EXIT_SHUTDOWN).</summary>
    Shutdown,
    /// <summary>The CPU refused to enter the guest (KVM_EXIT_FAIL_ENTRY): bad guest state.</summary>
    FailEntry,
    /// <summary>KVM could not emulate something (KVM_EXIT_INTERNAL_ERROR); see <see cref="VcpuExit.Suberror"/>.</summary>
    InternalError,
    /// <summary>Reset/shutdown/crash request (KVM_EXIT_SYSTEM_EVENT).</summary>
    SystemEvent,
    /// <summary>KVM_RUN returned EINTR (a signal or immediate_exit): simply run again.</summary>
    Interrupted,
    /// <summary>An unhandled guest exception (KVM_EXIT_EXCEPTION).</summary>
    Exception,
    /// <summary>A debug exit (KVM_EXIT_DEBUG).</summary>
    Debug,
}
