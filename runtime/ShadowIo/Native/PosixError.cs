using System.Runtime.InteropServices;

namespace ShadowIo.Native;

/// <summary>Turns a failed libc call's errno into an exception that names the call, what it was for, and the cause in words.</summary>
internal static class PosixError
{
    /// <summary>From the current errno: call it straight after the failed call.</summary>
    public static IOException Create(string call, string what) => Create(call, what, Errno.Current);

    /// <summary>From an errno saved earlier (when cleanup calls could overwrite it).</summary>
    public static IOException Create(string call, string what, int error) =>
        new($"{call} failed for {what}: {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).");
}
