using System.Runtime.InteropServices;

namespace ShadowIo.Kvm;

/// <summary>
/// A KVM call failed. The message names the operation, what was asked for and the cause in
/// words; <see cref="Error"/> classifies it and <see cref="Errno"/> keeps the raw value.
/// </summary>
public sealed class KvmException : Exception
{
    public KvmException(string message) : base(message) { }

    public KvmException(string message, Exception innerException) : base(message, innerException) { }

    public KvmException() { }

    public KvmException(KvmError error, int errno, string message) : base(message)
    {
        Error = error;
        Errno = errno;
    }

    public KvmError Error { get; }

    /// <summary>The errno the kernel returned; 0 when the failure was not a system call's.</summary>
    public int Errno { get; }

    /// <summary>Builds the exception for a failed call from the current errno.</summary>
    internal static KvmException FromErrno(string operation, int errno, KvmError? classify = null)
    {
        var error = classify ?? Classify(errno);
        string cause = error switch
        {
            KvmError.PermissionDenied => "permission denied",
            KvmError.LimitReached => "a kernel limit was reached",
            KvmError.AlreadyExists => "already registered",
            KvmError.Unsupported => "not supported by this kernel",
            KvmError.InvalidArgument => "the kernel rejected an argument",
            _ => "failed",
        };
        return new KvmException(error, errno,
            $"{operation}: {cause} ({Marshal.GetPInvokeErrorMessage(errno)}, errno {errno}).");
    }

    private static KvmError Classify(int errno) => errno switch
    {
        Errnos.EACCES or Errnos.EPERM => KvmError.PermissionDenied,
        Errnos.ENOENT or Errnos.ENODEV or Errnos.ENXIO => KvmError.DeviceMissing,
        Errnos.ENOSPC or Errnos.ENOMEM or Errnos.EMFILE or Errnos.ENFILE => KvmError.LimitReached,
        Errnos.EEXIST => KvmError.AlreadyExists,
        Errnos.EINVAL => KvmError.InvalidArgument,
        Errnos.ENOTTY or Errnos.EOPNOTSUPP => KvmError.Unsupported,
        _ => KvmError.Other,
    };
}

/// <summary>The errno values KVM callers branch on (x86-64 Linux numbering).</summary>
internal static class Errnos
{
    public const int EPERM = 1, ENOENT = 2, EINTR = 4, ENXIO = 6, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
        EEXIST = 17, ENODEV = 19, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25, ENOSPC = 28,
        EOPNOTSUPP = 95;
}
