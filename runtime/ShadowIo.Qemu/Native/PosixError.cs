using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Native;

/// <summary>Turns the current errno into an exception that names the failed call.</summary>
internal static class PosixError
{
    public static int Errno => errno;

    public static IOException Create(string call, string what)
    {
        int error = errno;
        return Create(call, what, error);
    }

    public static IOException Create(string call, string what, int error) =>
        new($"{call} failed for {what}: {Marshal.GetPInvokeErrorMessage(error)} (errno {error}).");
}
