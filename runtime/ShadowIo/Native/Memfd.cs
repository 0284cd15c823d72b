using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.Native;

/// <summary>memfd_create(2): anonymous memory with a descriptor, so KVM or another process can map the same pages.</summary>
internal static unsafe class Memfd
{
    /// <summary>A zero-filled, close-on-exec memfd of <paramref name="length"/> bytes.</summary>
    /// <param name="name">Shown in /proc/PID/fd and /proc/PID/maps (memfd:NAME).</param>
    /// <param name="length">Size in bytes (the caller page-aligns it for mapping).</param>
    public static FileDescriptorHandle Create(string name, ulong length)
    {
        byte[] nameBytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        int fd;
        fixed (byte* n = nameBytes) fd = memfd_create(n, MFD_CLOEXEC);
        if (fd < 0) throw PosixError.Create("memfd_create", name);
        var handle = new FileDescriptorHandle(fd);
        if (ftruncate(fd, (off_t)(long)length) != 0)
        {
            var e = PosixError.Create("ftruncate", name);
            handle.Dispose();
            throw e;
        }
        return handle;
    }
}
