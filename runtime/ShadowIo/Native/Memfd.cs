using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.Native;

/// <summary>memfd_create(2): anonymous memory with a descriptor, so KVM or another process can map the same pages.</summary>
internal static unsafe class Memfd
{
    /// <summary>
    /// A zero-filled, close-on-exec memfd of <paramref name="length"/> bytes, sealed at that size:
    /// its fd goes to other processes (a vfio-user peer's mappings of guest RAM, a shadow page or a
    /// mapped doorbell page), and a peer that could shrink it would turn our next access to the
    /// lost pages into SIGBUS, which kills the emulator. F_SEAL_SHRINK | F_SEAL_GROW fix the size
    /// for every holder of the fd (memfd_create(2), fcntl(2) "File Sealing"); F_SEAL_SEAL keeps a
    /// peer from adding a seal (F_SEAL_WRITE would make our own stores fail).
    /// </summary>
    /// <param name="name">Shown in /proc/PID/fd and /proc/PID/maps (memfd:NAME).</param>
    /// <param name="length">Size in bytes (the caller page-aligns it for mapping).</param>
    public static FileDescriptorHandle Create(string name, ulong length)
    {
        byte[] nameBytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        int fd;
        fixed (byte* n = nameBytes) fd = memfd_create(n, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0) throw PosixError.Create("memfd_create", name);
        var handle = new FileDescriptorHandle(fd);
        if (ftruncate(fd, (off_t)(long)length) != 0) throw Fail(handle, "ftruncate", name);
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) throw Fail(handle, "fcntl(F_ADD_SEALS)", name);
        return handle;
    }

    /// <summary>The error of <paramref name="call"/>, taken before closing the memfd (whose close could change errno).</summary>
    private static IOException Fail(FileDescriptorHandle handle, string call, string name)
    {
        var e = PosixError.Create(call, name);
        handle.Dispose();
        return e;
    }
}
