using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace ShadowIo.Native;

/// <summary>
/// An owned file descriptor. <see cref="SafeHandle"/> gives what hand-written Dispose methods
/// did not: release is atomic and runs once, however many threads dispose, and a descriptor in
/// use by a call that took a reference (<see cref="SafeHandle.DangerousAddRef"/>) is closed only
/// when that call is done, so its number cannot be reused under the call.
/// </summary>
internal class FileDescriptorHandle : SafeHandle
{
    /// <summary>Takes ownership of <paramref name="fd"/> (-1 makes an invalid handle).</summary>
    public FileDescriptorHandle(int fd) : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    /// <inheritdoc/>
    public override bool IsInvalid => handle < 0;

    /// <summary>
    /// The descriptor number, for a call that hands it to the kernel (a KVM registration, epoll,
    /// another process). Valid only while the handle is open; -1 once closed.
    /// </summary>
    public int Fd => IsClosed ? -1 : (int)handle;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => close((int)handle) == 0;

    /// <summary>
    /// Takes a reference (pair it with <see cref="SafeHandle.DangerousRelease"/>) so a concurrent
    /// Dispose cannot close the descriptor, and the kernel cannot hand its number to a new file,
    /// until the caller is done. False, without throwing, when the handle is already closed.
    /// </summary>
    public bool TryAddRef()
    {
        bool added = false;
        try
        {
            DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
        }
        return added;
    }
}
