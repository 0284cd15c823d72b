using static Tmds.Linux.LibC;

namespace ShadowIo.Native;

/// <summary>
/// Checks on raw descriptors a peer sent (SCM_RIGHTS) before anything takes ownership of them:
/// what file is behind one, whether it is an eventfd, and closing the ones nobody keeps.
/// </summary>
internal static class FileDescriptors
{
    /// <summary>Closes every descriptor of <paramref name="fds"/> that is not -1 (taken).</summary>
    public static void CloseAll(ReadOnlySpan<int> fds)
    {
        foreach (int fd in fds)
            if (fd >= 0) close(fd);
    }

    /// <summary>Identity of the file behind a descriptor: the same memfd re-sent by a peer maps to the same key.</summary>
    public static unsafe bool TryGetFileIdentity(int fd, out (ulong Device, ulong Inode, long Size) identity)
    {
        Tmds.Linux.stat st;
        if (fstat(fd, &st) != 0)
        {
            identity = default;
            return false;
        }
        identity = ((ulong)st.st_dev, (ulong)st.st_ino, (long)st.st_size);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="fd"/> is a regular file (a memfd is one), and its size: the only kind
    /// of fd a peer's memory may be mapped from, since touching a mapped page past the end of the
    /// file raises SIGBUS (a device file or pipe has no meaningful size at all).
    /// </summary>
    public static unsafe bool IsRegularFile(int fd, out long size)
    {
        Tmds.Linux.stat st;
        size = 0;
        if (fstat(fd, &st) != 0 || ((uint)st.st_mode & (uint)S_IFMT) != (uint)S_IFREG) return false;
        size = (long)st.st_size;
        return true;
    }

    /// <summary>
    /// Whether <paramref name="fd"/> is an eventfd. A peer may send any fd where QEMU sends one; a
    /// regular file or memfd polls readable forever, which would make the server loop spin.
    /// </summary>
    public static bool IsEventFd(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget == "anon_inode:[eventfd]";
        }
        catch (IOException)
        {
            return false;
        }
    }
}
