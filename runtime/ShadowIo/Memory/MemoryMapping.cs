using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo;

/// <summary>
/// An owned shared memory mapping: anonymous, or backed by a memfd whose descriptor can be
/// handed to KVM (as a memory slot), to another process, or to QEMU's proxy.
/// </summary>
public sealed unsafe class MemoryMapping : IDisposable
{
    private byte* _pointer;

    private MemoryMapping(byte* pointer, ulong length, int fd)
    {
        _pointer = pointer;
        Length = length;
        Fd = fd;
    }

    /// <summary>Page-aligned host address of the first byte.</summary>
    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(MemoryMapping));

    public ulong Length { get; }

    /// <summary>The memfd behind the mapping, or -1 for an anonymous mapping.</summary>
    public int Fd { get; private set; }

    public Span<byte> Span => Length <= int.MaxValue
        ? new Span<byte>(Pointer, (int)Length)
        : throw new InvalidOperationException($"A {Length}-byte mapping does not fit one span.");

    /// <summary>Zero-filled shared anonymous memory (guest RAM for a KVM memory slot).</summary>
    public static MemoryMapping CreateAnonymous(ulong length)
    {
        ulong size = PageAlign(length);
        void* p = mmap(null, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) throw PosixError.Create("mmap", $"{size} bytes of anonymous memory");
        return new MemoryMapping((byte*)p, size, -1);
    }

    /// <summary>Zero-filled memory backed by a memfd; <see cref="Fd"/> can be shared.</summary>
    public static MemoryMapping CreateMemfd(string name, ulong length)
    {
        ulong size = PageAlign(length);
        byte[] nameBytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        int fd;
        fixed (byte* n = nameBytes) fd = memfd_create(n, MFD_CLOEXEC);
        if (fd < 0) throw PosixError.Create("memfd_create", name);
        if (ftruncate(fd, (off_t)(long)size) != 0)
        {
            var e = PosixError.Create("ftruncate", name);
            close(fd);
            throw e;
        }
        return MapFd(fd, size, name);
    }

    /// <summary>Maps <paramref name="length"/> bytes of an existing fd (shared); takes ownership of the fd.</summary>
    public static MemoryMapping MapFd(int fd, ulong length, string what, long offset = 0)
    {
        void* p = mmap(null, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
        if (p == MAP_FAILED)
        {
            var e = PosixError.Create("mmap", what);
            close(fd);
            throw e;
        }
        return new MemoryMapping((byte*)p, length, fd);
    }

    public void Dispose()
    {
        if (_pointer == null) return;
        munmap(_pointer, (size_t)Length);
        _pointer = null;
        if (Fd >= 0) close(Fd);
        Fd = -1;
    }

    private static ulong PageAlign(ulong length)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        return (length + 4095) & ~4095UL;
    }
}
