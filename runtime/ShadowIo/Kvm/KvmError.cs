namespace ShadowIo.Kvm;

/// <summary>Why a KVM operation failed, in the terms a user can act on.</summary>
public enum KvmError
{
    /// <summary>Some other failure; the message names the call and the errno.</summary>
    Other,
    /// <summary>/dev/kvm does not exist: no KVM module loaded, or a container without the device.</summary>
    DeviceMissing,
    /// <summary>/dev/kvm exists but this user may not open it (not in the kvm group, or not root).</summary>
    PermissionDenied,
    /// <summary>The kernel lacks a capability or rejects a feature flag (EINVAL on an unknown flag).</summary>
    Unsupported,
    /// <summary>The kernel rejected an argument.</summary>
    InvalidArgument,
    /// <summary>A kernel limit was hit: memory slots, ioeventfds on one bus (KVM_IO_BUS_MAX_DEVS = 1000), memory.</summary>
    LimitReached,
    /// <summary>An ioeventfd with the same address, length and datamatch is already registered.</summary>
    AlreadyExists,
}
