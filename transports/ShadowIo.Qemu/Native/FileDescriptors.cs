using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Native;

/// <summary>
/// Small helpers over raw descriptors received from QEMU (the transport's own: eventfds, epoll
/// and owned handles are the runtime's native layer, <c>ShadowIo.Native</c>).
/// </summary>
internal static class FileDescriptors
{
    public static void CloseAll(ReadOnlySpan<int> fds)
    {
        foreach (int fd in fds)
            if (fd >= 0) close(fd);
    }

    /// <summary>Identity of the file behind a descriptor: the same memfd re-sent by QEMU maps to the same key.</summary>
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
