namespace ShadowIo.Kvm;

/// <summary>
/// The errno values KVM callers branch on, by their C names (x86-64 Linux numbering,
/// include/uapi/asm-generic/errno-base.h and errno.h).
/// </summary>
internal static class Errnos
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int ENXIO = 6;
    /// <summary>"Argument list too long": <c>KVM_GET_SUPPORTED_CPUID</c> with too little room for the entries.</summary>
    public const int E2BIG = 7;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOTTY = 25;
    public const int ENOSPC = 28;
    public const int EOPNOTSUPP = 95;
}
