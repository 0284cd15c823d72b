using ShadowIo.Native;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo;

/// <summary>
/// An owned shared memory mapping: anonymous, or backed by a memfd whose descriptor can be
/// handed to KVM (as a memory slot), or to another process (a vfio-user peer).
/// </summary>
/// <remarks>
/// Dispose is atomic and idempotent (the first caller unmaps, and the memfd's handle closes once);
/// the owner makes sure nothing still reads or writes the pages when it disposes.
/// </remarks>
public sealed unsafe class MemoryMapping : IDisposable
{
    private nint _pointer;
    private readonly FileDescriptorHandle? _fd;

    private MemoryMapping(byte* pointer, ulong length, FileDescriptorHandle? fd)
    {
        _pointer = (nint)pointer;
        Length = length;
        _fd = fd;
    }

    /// <summary>Page-aligned host address of the first byte.</summary>
    public byte* Pointer
    {
        get
        {
            nint p = Volatile.Read(ref _pointer);
            return p != 0 ? (byte*)p : throw new ObjectDisposedException(nameof(MemoryMapping));
        }
    }

    /// <summary>Length in bytes (page aligned).</summary>
    public ulong Length { get; }

    /// <summary>The memfd behind the mapping, or -1 for an anonymous mapping (and after dispose); for a KVM memory slot or another process, while the mapping lives.</summary>
    internal int Fd => _fd?.Fd ?? -1;

    /// <summary>The whole mapping as a span (for filling or checking it; mappings over 2 GiB throw).</summary>
    public Span<byte> Span => Length <= int.MaxValue
        ? new Span<byte>(Pointer, (int)Length)
        : throw new InvalidOperationException($"A {Length}-byte mapping does not fit one span.");

    /// <summary>Zero-filled shared anonymous memory (guest RAM for a KVM memory slot).</summary>
    public static MemoryMapping CreateAnonymous(ulong length)
    {
        ulong size = PageAlign(length);
        void* p = mmap(null, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) throw PosixError.Create("mmap", $"{size} bytes of anonymous memory");
        return new MemoryMapping((byte*)p, size, fd: null);
    }

    /// <summary>Zero-filled memory backed by a memfd; <see cref="Fd"/> can be shared.</summary>
    public static MemoryMapping CreateMemfd(string name, ulong length)
    {
        ulong size = PageAlign(length);
        return Map(Memfd.Create(name, size), size, name, 0);
    }

    /// <summary>
    /// A memfd of <paramref name="fileLength"/> bytes of which only <paramref name="length"/> bytes
    /// from <paramref name="offset"/> (page aligned) are mapped here: a file laid out like a
    /// register block, whose doorbell page a peer maps at the same offset (a vfio-user region's
    /// sparse mmap area) while the bytes before it stay a hole that nothing maps.
    /// </summary>
    internal static MemoryMapping CreateMemfdWindow(string name, ulong fileLength, ulong offset, ulong length)
    {
        ulong size = PageAlign(length);
        if ((offset & 4095) != 0 || offset > fileLength || size > fileLength - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"A window of {size} bytes at 0x{offset:x} does not lie page-aligned in a {fileLength}-byte file.");
        return Map(Memfd.Create(name, fileLength), size, name, (long)offset);
    }

    /// <summary>
    /// Maps <paramref name="length"/> bytes of an existing fd (a peer's guest RAM, a shadow page)
    /// from <paramref name="offset"/> (page aligned), shared, writable or read-only; takes ownership
    /// of the handle (closed on failure too).
    /// </summary>
    internal static MemoryMapping MapFd(FileDescriptorHandle fd, ulong length, string what, long offset = 0, bool writable = true) =>
        Map(fd, length, what, offset, writable);

    private static MemoryMapping Map(FileDescriptorHandle fd, ulong length, string what, long offset, bool writable = true)
    {
        void* p = mmap(null, (size_t)length, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd.Fd, (off_t)offset);
        if (p == MAP_FAILED)
        {
            var e = PosixError.Create("mmap", what);
            fd.Dispose();
            throw e;
        }
        return new MemoryMapping((byte*)p, length, fd);
    }

    /// <summary>Unmaps the pages and closes the memfd (once, whichever thread gets here first).</summary>
    public void Dispose()
    {
        nint p = Interlocked.Exchange(ref _pointer, 0);
        if (p == 0) return;
        munmap((void*)p, (size_t)Length);
        _fd?.Dispose();
    }

    private static ulong PageAlign(ulong length)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        return (length + 4095) & ~4095UL;
    }
}
