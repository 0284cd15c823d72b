namespace ShadowIo.Binding;

/// <summary>How a guest's doorbell write reaches the emulator together with its value.</summary>
public enum DoorbellBindingMode
{
    /// <summary>
    /// <see cref="KernelPostWrite"/> when the kernel accepts it, otherwise <see cref="GuestShadow"/>
    /// (which behaves exactly like <see cref="Trap"/> until the device attaches a guest shadow page).
    /// </summary>
    BestAvailable,

    /// <summary>
    /// One ioeventfd per doorbell with <c>KVM_IOEVENTFD_FLAG_POST_WRITE</c>: the kernel copies the
    /// value into the shadow page, then signals; no exit to userspace. Needs the revised
    /// post-write patch (not in mainline; a kernel without it answers EINVAL).
    /// </summary>
    KernelPostWrite,

    /// <summary>
    /// Wildcard ioeventfds once the device attaches a guest-memory shadow page (NVMe Doorbell
    /// Buffer Config): the guest stores the value there, then rings the doorbell, which only
    /// signals. Until attached, value doorbells trap.
    /// </summary>
    GuestShadow,

    /// <summary>
    /// No ioeventfd for doorbells: every write exits to the VMM, whose MMIO handler stores the
    /// value into the shadow page and signals the doorbell's eventfd.
    /// </summary>
    Trap,
}
