namespace ShadowIo.Kvm;

/// <summary><c>KVM_CAP_*</c> numbers (include/uapi/linux/kvm.h) ShadowIo asks about.</summary>
public enum KvmCapability
{
    UserMemory = 3,
    SetTssAddr = 4,
    ExtCpuid = 7,
    /// <summary>Recommended vCPUs per VM.</summary>
    NrVcpus = 9,
    /// <summary>Memory slots per VM.</summary>
    NrMemslots = 10,
    SyncMmu = 16,
    IoEventFd = 36,
    MaxVcpus = 66,
    ReadonlyMem = 81,
    /// <summary>Wildcard ioeventfds may omit the length (len = 0) and match any access size.</summary>
    IoEventFdNoLength = 100,
    IoEventFdAnyLength = 122,
    ImmediateExit = 136,
}
