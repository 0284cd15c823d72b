using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace ShadowIo;

/// <summary>Turns a failed libc call's errno into an exception that names the call, what it was for, and the cause in words.</summary>
internal static class PosixError
{
    /// <summary>From the current errno: call it straight after the failed call.</summary>
    public static IOException Create(string call, string what) => Create(call, what, errno);

    public static IOException Create(string call, string what, int error) =>
        new($"{call} failed for {what}: {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).");
}
