using System.Runtime.CompilerServices;

namespace ShadowIo;

/// <summary>
/// Guest-physical memory as the emulator sees it: a set of RAM regions, each mapped into this
/// process. Every device access to guest memory goes through here, and every access is
/// checked: an address the guest supplies that falls outside RAM (or straddles the end of a
/// region) is refused with <c>false</c>, never an exception and never a stray host access.
/// </summary>
/// <remarks>
/// Regions can be replaced while devices run (QEMU re-sends its memory map many times per
/// boot): the region list is an immutable array swapped atomically.
/// </remarks>
public sealed unsafe class GuestMemory
{
    /// <summary>One contiguous range of guest RAM and where it is mapped in this process.</summary>
    public readonly record struct Region(ulong GuestPhysicalAddress, ulong Size, nint HostAddress);

    private Region[] _regions = [];

    /// <summary>No RAM yet: every access is refused until <see cref="SetRegions"/> (a transport publishes the map later).</summary>
    public GuestMemory() { }

    /// <summary>Guest RAM made of <paramref name="regions"/> (see <see cref="SetRegions"/>).</summary>
    public GuestMemory(params ReadOnlySpan<Region> regions) => SetRegions(regions);

    /// <summary>The current memory map (a snapshot: a concurrent <see cref="SetRegions"/> does not change it).</summary>
    public ReadOnlySpan<Region> Regions => Volatile.Read(ref _regions);

    /// <summary>Replaces the whole memory map. Overlapping regions are a caller error.</summary>
    public void SetRegions(ReadOnlySpan<Region> regions)
    {
        var copy = regions.ToArray();
        Array.Sort(copy, static (a, b) => a.GuestPhysicalAddress.CompareTo(b.GuestPhysicalAddress));
        for (int i = 0; i < copy.Length; i++)
        {
            if (copy[i].Size == 0 || copy[i].GuestPhysicalAddress + copy[i].Size < copy[i].GuestPhysicalAddress)
                throw new ArgumentException($"Guest region at 0x{copy[i].GuestPhysicalAddress:x} has an invalid size 0x{copy[i].Size:x}.");
            if (i > 0 && copy[i - 1].GuestPhysicalAddress + copy[i - 1].Size > copy[i].GuestPhysicalAddress)
                throw new ArgumentException($"Guest regions at 0x{copy[i - 1].GuestPhysicalAddress:x} and 0x{copy[i].GuestPhysicalAddress:x} overlap.");
        }
        Volatile.Write(ref _regions, copy);
    }

    /// <summary>Adds one region to the map.</summary>
    public void AddRegion(ulong guestPhysicalAddress, ulong size, nint hostAddress) =>
        SetRegions([.. Regions, new Region(guestPhysicalAddress, size, hostAddress)]);

    /// <summary>Whether [gpa, gpa + length) lies inside one RAM region.</summary>
    public bool Contains(ulong gpa, ulong length) => Translate(gpa, length) != null;

    /// <summary>
    /// A span over [gpa, gpa + length) when it lies inside one RAM region. The span aliases guest
    /// memory, which the guest may change at any time: copy what must be read once.
    /// </summary>
    public bool TryGetSpan(ulong gpa, int length, out Span<byte> span)
    {
        byte* p = length < 0 ? null : Translate(gpa, (ulong)length);
        span = p == null ? default : new Span<byte>(p, length);
        return p != null;
    }

    /// <summary>Copies guest RAM at <paramref name="gpa"/> into <paramref name="destination"/>; false (nothing copied) unless it lies wholly in one region.</summary>
    public bool TryRead(ulong gpa, Span<byte> destination)
    {
        byte* p = Translate(gpa, (ulong)destination.Length);
        if (p == null) return false;
        new ReadOnlySpan<byte>(p, destination.Length).CopyTo(destination);
        return true;
    }

    /// <summary>Copies <paramref name="source"/> into guest RAM at <paramref name="gpa"/>; false (nothing written) unless it lies wholly in one region.</summary>
    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> source)
    {
        byte* p = Translate(gpa, (ulong)source.Length);
        if (p == null) return false;
        source.CopyTo(new Span<byte>(p, source.Length));
        return true;
    }

    /// <summary>Reads one little-endian value (a queue entry field, a PRP list entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead<T>(ulong gpa, out T value) where T : unmanaged
    {
        byte* p = Translate(gpa, (ulong)sizeof(T));
        value = p == null ? default : Unsafe.ReadUnaligned<T>(p);
        return p != null;
    }

    /// <summary>Writes one little-endian value (a completion entry field); false (nothing written) outside RAM.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite<T>(ulong gpa, T value) where T : unmanaged
    {
        byte* p = Translate(gpa, (ulong)sizeof(T));
        if (p != null) Unsafe.WriteUnaligned(p, value);
        return p != null;
    }

    /// <summary>
    /// A shadow region over guest RAM: the guest's Doorbell Buffer Config pages. Refused when the
    /// range is not wholly RAM.
    /// </summary>
    public bool TryGetShadowRegion(ulong gpa, int length, out ShadowRegion region)
    {
        byte* p = length <= 0 ? null : Translate(gpa, (ulong)length);
        region = p == null ? default : new ShadowRegion(p, length);
        return p != null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Translate(ulong gpa, ulong length)
    {
        var regions = Volatile.Read(ref _regions);
        foreach (ref readonly var r in regions.AsSpan())
        {
            // Written so that no sum can overflow: gpa - base < size, then length <= size - (gpa - base).
            ulong delta = gpa - r.GuestPhysicalAddress;
            if (gpa >= r.GuestPhysicalAddress && delta < r.Size)
                return length <= r.Size - delta ? (byte*)r.HostAddress + delta : null;
        }
        return null;
    }
}
