using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Native;

/// <summary>Small helpers over raw descriptors received from QEMU.</summary>
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

    /// <summary>Signals an eventfd (adds 1 to its counter); a full counter is treated as already signalled.</summary>
    public static unsafe void SignalEventFd(int fd)
    {
        ulong one = 1;
        while (write(fd, &one, sizeof(ulong)) < 0 && errno == EINTR) { }
    }

    /// <summary>Drains a non-blocking eventfd; returns whether it had been signalled.</summary>
    public static unsafe bool DrainEventFd(int fd)
    {
        ulong value;
        long n;
        do n = read(fd, &value, sizeof(ulong)); while (n < 0 && errno == EINTR);
        return n == sizeof(ulong);
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

    public static int CreateEventFd()
    {
        int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0) throw PosixError.Create("eventfd", "a doorbell or wake event");
        return fd;
    }
}
