namespace ShadowIo.Kvm;

/// <summary>Why a KVM operation failed, in the terms a user can act on.</summary>
public enum KvmError
{
    /// <summary>Some other failure; the message names the call and the errno.</summary>
    Other,
    /// <summary>/dev/kvm does not exist or no KVM driver answers it (ENOENT, ENODEV, ENXIO): no KVM module loaded, or a container without the device.</summary>
    DeviceMissing,
    /// <summary>/dev/kvm exists but this user may not open it (EACCES, EPERM): not in the kvm group, or not root.</summary>
    PermissionDenied,
    /// <summary>The kernel lacks a capability (ENOTTY, EOPNOTSUPP, or a <c>KVM_CHECK_EXTENSION</c> of 0) or rejects a feature flag it does not know (EINVAL for an unknown flag).</summary>
    Unsupported,
    /// <summary>The kernel rejected an argument (EINVAL, or ENOENT for a deassignment that matches no registration).</summary>
    InvalidArgument,
    /// <summary>A kernel limit was hit (ENOSPC, ENOMEM, EMFILE, ENFILE): memory slots, ioeventfds on one bus (KVM_IO_BUS_MAX_DEVS = 1000), memory, fds.</summary>
    LimitReached,
    /// <summary>An ioeventfd with the same address, length and datamatch is already registered (EEXIST).</summary>
    AlreadyExists,
}
