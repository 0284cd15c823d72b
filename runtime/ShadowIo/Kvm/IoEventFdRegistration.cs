namespace ShadowIo.Kvm;

/// <summary>
/// One <c>KVM_IOEVENTFD</c> registration: a guest write of <see cref="Length"/> bytes to
/// <see cref="Address"/> signals <see cref="EventFd"/> inside the kernel, without an exit to
/// userspace. Deassignment must repeat the same address, length, fd and datamatch.
/// </summary>
/// <param name="Address">Guest-physical MMIO address (or port with <see cref="IsPio"/>).</param>
/// <param name="Length">1, 2, 4 or 8; 0 = any length (MMIO only, KVM_CAP_IOEVENTFD_ANY_LENGTH).</param>
/// <param name="EventFd">The eventfd to signal.</param>
public readonly record struct IoEventFdRegistration(ulong Address, int Length, int EventFd)
{
    /// <summary>Fire only on a write of exactly this value (<c>KVM_IOEVENTFD_FLAG_DATAMATCH</c>); null = wildcard.</summary>
    public ulong? DataMatch { get; init; }

    /// <summary>Port I/O instead of MMIO (<c>KVM_IOEVENTFD_FLAG_PIO</c>).</summary>
    public bool IsPio { get; init; }

    /// <summary>
    /// Host address KVM copies the written value to before signalling
    /// (<c>KVM_IOEVENTFD_FLAG_POST_WRITE</c>, revised patch; not in mainline). 0 = none.
    /// </summary>
    public nint PostAddress { get; init; }

    /// <summary>The registration as KVM error messages name it: space, address, length, fd, and datamatch/post_addr when set.</summary>
    public override string ToString() =>
        $"{(IsPio ? "port" : "MMIO")} 0x{Address:x} len {Length} fd {EventFd}" +
        (DataMatch is { } m ? $" datamatch 0x{m:x}" : "") +
        (PostAddress != 0 ? $" post_addr 0x{PostAddress:x}" : "");
}
