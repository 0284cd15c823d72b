using Tmds.Linux;

namespace ShadowIo.Native;

/// <summary>
/// The errno values the runtime and its transports branch on, by their C names (x86-64 Linux
/// numbering, include/uapi/asm-generic/errno-base.h and errno.h), and the calling thread's
/// current errno. Every other errno is reported, never interpreted. The runtime tests pin each
/// value to libc's (ErrnoTests): the transports put these numbers on the wire.
/// </summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    /// <summary>A signal interrupted the call before it did anything.</summary>
    public const int EINTR = 4;
    /// <summary>I/O error: a device failed an access (a bug in the device, reported to the peer rather than ending the link).</summary>
    public const int EIO = 5;
    public const int ENXIO = 6;
    /// <summary>"Argument list too long": <c>KVM_GET_SUPPORTED_CPUID</c> with too little room for the entries.</summary>
    public const int E2BIG = 7;
    /// <summary>A descriptor that is not open: what a call on a closed handle would have met.</summary>
    public const int EBADF = 9;
    /// <summary>A non-blocking fd would block (an eventfd with nothing pending, or a saturated counter).</summary>
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    /// <summary>KVM's answer to a flag or argument it does not know (e.g. KVM_IOEVENTFD_FLAG_POST_WRITE on mainline).</summary>
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOTTY = 25;
    public const int ENOSPC = 28;
    /// <summary>The stream socket's peer has gone (sendmsg with MSG_NOSIGNAL reports it instead of raising SIGPIPE).</summary>
    public const int EPIPE = 32;
    /// <summary>Protocol error: a vfio-user peer's reply broke the protocol (the link is not trusted any more).</summary>
    public const int EPROTO = 71;
    public const int EOPNOTSUPP = 95;
    /// <summary>Linux defines ENOTSUP as EOPNOTSUPP; vfio-user replies use the ENOTSUP name.</summary>
    public const int ENOTSUP = EOPNOTSUPP;
    /// <summary>The peer reset the connection: a stream socket that ends is over, not failed.</summary>
    public const int ECONNRESET = 104;

    /// <summary>The errno of the calling thread's last failed libc call: read it straight after the call.</summary>
    public static int Current => LibC.errno;
}
