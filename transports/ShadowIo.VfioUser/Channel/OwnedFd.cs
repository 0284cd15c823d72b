using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Channel;

/// <summary>
/// A descriptor this process owns (a received fd, the socket): closed exactly once however many
/// threads dispose it, and not while a call that took a reference still uses its number.
/// </summary>
/// <remarks>The transport's stand-in for the runtime's owned-fd handle of the native layer
/// (issue 12, workstream A); the two become one when that layer lands.</remarks>
internal sealed class OwnedFd : SafeHandle
{
    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    public OwnedFd(int fd) : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    /// <inheritdoc/>
    public override bool IsInvalid => handle < 0;

    /// <summary>The number, while open (-1 once closed).</summary>
    public int Fd => IsClosed ? -1 : (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => close((int)handle) == 0;
}
