using ShadowIo.Native;
using Tmds.Linux;

namespace ShadowIo.Runtime.Tests.Native;

/// <summary>
/// Errno's C names against libc's own values: the transports reply to peers with these numbers
/// (vfio-user error replies carry the errno), so a wrong one would be a wrong answer on the wire.
/// </summary>
public sealed class ErrnoTests
{
    [Fact]
    public void Every_name_has_libcs_value()
    {
        (int Ours, int Libc)[] pairs =
        [
            (Errno.EPERM, LibC.EPERM), (Errno.ENOENT, LibC.ENOENT), (Errno.EINTR, LibC.EINTR),
            (Errno.EIO, LibC.EIO), (Errno.ENXIO, LibC.ENXIO), (Errno.E2BIG, LibC.E2BIG), (Errno.EBADF, LibC.EBADF),
            (Errno.EAGAIN, LibC.EAGAIN), (Errno.ENOMEM, LibC.ENOMEM), (Errno.EACCES, LibC.EACCES),
            (Errno.EEXIST, LibC.EEXIST), (Errno.ENODEV, LibC.ENODEV), (Errno.EINVAL, LibC.EINVAL),
            (Errno.ENFILE, LibC.ENFILE), (Errno.EMFILE, LibC.EMFILE), (Errno.ENOTTY, LibC.ENOTTY),
            (Errno.ENOSPC, LibC.ENOSPC), (Errno.EPIPE, LibC.EPIPE), (Errno.EOPNOTSUPP, LibC.EOPNOTSUPP),
            (Errno.ENOTSUP, LibC.ENOTSUP), (Errno.ECONNRESET, LibC.ECONNRESET), (Errno.EPROTO, LibC.EPROTO),
        ];
        foreach (var (ours, libc) in pairs)
            Assert.Equal(libc, ours);
    }
}
