using static Tmds.Linux.LibC;

namespace ShadowIo.Binding;

/// <summary>The three eventfd operations a binding needs, without allocation.</summary>
internal static unsafe class BindingEventFd
{
    /// <summary>A non-blocking, close-on-exec eventfd with counter 0.</summary>
    public static int Create(string purpose)
    {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) throw PosixError.Create("eventfd", purpose);
        return fd;
    }

    /// <summary>Adds 1 to the counter: what KVM does when an ioeventfd matches.</summary>
    public static void Signal(int fd)
    {
        ulong one = 1;
        write(fd, &one, 8);
    }

    /// <summary>Reads and resets the counter; 0 when nothing was pending.</summary>
    public static ulong Drain(int fd)
    {
        ulong value = 0;
        return read(fd, &value, 8) == 8 ? value : 0;
    }
}
