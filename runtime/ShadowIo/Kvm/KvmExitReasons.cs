namespace ShadowIo.Kvm;

/// <summary><c>KVM_EXIT_*</c> numbers (include/uapi/linux/kvm.h).</summary>
internal static class KvmExitReasons
{
    public const uint Unknown = 0, Exception = 1, Io = 2, Hypercall = 3, Debug = 4, Hlt = 5, Mmio = 6,
        IrqWindowOpen = 7, Shutdown = 8, FailEntry = 9, Intr = 10, InternalError = 17, SystemEvent = 24;

    /// <summary><c>KVM_EXIT_IO_OUT</c>; <c>KVM_EXIT_IO_IN</c> is 0.</summary>
    public const byte IoOut = 1;
}
