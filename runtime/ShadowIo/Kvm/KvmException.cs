// Aliased: this class has an Errno property of its own.
using Errnos = ShadowIo.Native.Errno;
using System.Runtime.InteropServices;

namespace ShadowIo.Kvm;

/// <summary>
/// A KVM call failed. The message names the operation, what was asked for and the cause in
/// words; <see cref="Error"/> classifies it and <see cref="Errno"/> keeps the raw value.
/// </summary>
public sealed class KvmException : Exception
{
    /// <summary>A failure with only a message: <see cref="Error"/> is <see cref="KvmError.Other"/>, <see cref="Errno"/> 0.</summary>
    /// <param name="message">What was asked for and why it failed, as a sentence.</param>
    public KvmException(string message) : base(message) { }

    /// <summary>A failure caused by another exception: <see cref="Error"/> is <see cref="KvmError.Other"/>, <see cref="Errno"/> 0.</summary>
    /// <param name="message">What was asked for and why it failed, as a sentence.</param>
    /// <param name="innerException">The failure underneath.</param>
    public KvmException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>A failure with the default message (exception-pattern constructor; ShadowIo never throws it).</summary>
    public KvmException() { }

    /// <summary>A classified failure of a KVM call.</summary>
    /// <param name="error">What the failure means for the caller.</param>
    /// <param name="errno">The errno the kernel returned, or 0 when no system call failed (e.g. a missing capability).</param>
    /// <param name="message">The operation, what was asked for and the cause in words.</param>
    public KvmException(KvmError error, int errno, string message) : base(message)
    {
        Error = error;
        Errno = errno;
    }

    /// <summary>
    /// The failure's class, to branch on (skip a test when <see cref="KvmError.DeviceMissing"/>, fall
    /// back to another binding mode when <see cref="KvmError.Unsupported"/>).
    /// </summary>
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
