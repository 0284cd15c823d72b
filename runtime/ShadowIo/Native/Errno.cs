using Tmds.Linux;

namespace ShadowIo.Native;

/// <summary>
/// The errno values the runtime acts on, by name (asm-generic/errno-base.h), and the calling
/// thread's current errno. Every other errno is reported, never interpreted.
/// </summary>
internal static class Errno
{
    /// <summary>EINTR: a signal interrupted the call before it did anything.</summary>
    public const int Interrupted = 4;

    /// <summary>EAGAIN: a non-blocking fd would block (an eventfd with nothing pending, or a saturated counter).</summary>
    public const int WouldBlock = 11;

    /// <summary>EINVAL: KVM's answer to a flag or argument it does not know (e.g. KVM_IOEVENTFD_FLAG_POST_WRITE on mainline).</summary>
    public const int InvalidArgument = 22;

    /// <summary>The errno of the calling thread's last failed libc call: read it straight after the call.</summary>
    public static int Current => LibC.errno;

    static Errno()
    {
        // Pinned to libc's own values so a renumbering would show at the first use.
        System.Diagnostics.Debug.Assert(Interrupted == LibC.EINTR && WouldBlock == LibC.EAGAIN && InvalidArgument == LibC.EINVAL);
    }
}
