using System.Runtime.CompilerServices;

namespace ShadowIo;

/// <summary>
/// A window of memory holding doorbell values in a block's shadow layout: the binding's
/// memfd shadow page (trap and kernel post-write modes) or a page of guest RAM that the guest
/// named with NVMe Doorbell Buffer Config (guest-shadow mode).
/// </summary>
/// <remarks>
/// Every access is volatile because another agent (the guest, KVM or the VMM thread) writes
/// the memory concurrently. Offsets are checked against <see cref="Length"/>; the owner of the
/// mapping keeps it alive for as long as the region is in use.
/// </remarks>
public readonly unsafe struct ShadowRegion
{
    private readonly byte* _pointer;

    /// <summary>A region over <paramref name="length"/> bytes at <paramref name="pointer"/>, which the caller keeps mapped while the region is used.</summary>
    public ShadowRegion(byte* pointer, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (pointer == null && length != 0) throw new ArgumentNullException(nameof(pointer));
        _pointer = pointer;
        Length = length;
    }

    /// <summary>Bytes in the region; every access is checked against it.</summary>
    public int Length { get; }

    /// <summary>Whether the region is empty (the default value: no page attached, or its owner disposed).</summary>
    public bool IsEmpty => Length == 0;

    /// <summary>The region's first byte, for handing to KVM or another process.</summary>
    public nint Address => (nint)_pointer;

    /// <summary>Volatile read of the byte at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The access does not lie inside the region.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadByte(int offset) => Volatile.Read(ref *At(offset, sizeof(byte)));

    /// <summary>Volatile little-endian read of the 2 bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The access does not lie inside the region.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort ReadUInt16(int offset) => Volatile.Read(ref *(ushort*)At(offset, sizeof(ushort)));

    /// <summary>Volatile little-endian read of the 4 bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The access does not lie inside the region.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ReadUInt32(int offset) => Volatile.Read(ref *(uint*)At(offset, sizeof(uint)));

    /// <summary>Volatile little-endian read of the 8 bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The access does not lie inside the region.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadUInt64(int offset) => Volatile.Read(ref *(ulong*)At(offset, sizeof(ulong)));

    /// <summary>Volatile write of the byte at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The access does not lie inside the region.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteByte(int offset, byte value) => Volatile.Write(ref *At(offset, sizeof(byte)), value);

    /// <summary>Volatile little-endian write of 2 bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The access does not lie inside the region.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteUInt16(int offset, ushort value) => Volatile.Write(ref *(ushort*)At(offset, sizeof(ushort)), value);

    /// <summary>Volatile little-endian write of 4 bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The access does not lie inside the region.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteUInt32(int offset, uint value) => Volatile.Write(ref *(uint*)At(offset, sizeof(uint)), value);

    /// <summary>Volatile little-endian write of 8 bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The access does not lie inside the region.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteUInt64(int offset, ulong value) => Volatile.Write(ref *(ulong*)At(offset, sizeof(ulong)), value);

    /// <summary>Reads a value of <paramref name="width"/> bytes (1, 2, 4 or 8), zero-extended.</summary>
    public ulong Read(int offset, int width) => width switch
    {
        1 => ReadByte(offset),
        2 => ReadUInt16(offset),
        4 => ReadUInt32(offset),
        8 => ReadUInt64(offset),
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "Width must be 1, 2, 4 or 8."),
    };

    /// <summary>Writes the low <paramref name="width"/> bytes (1, 2, 4 or 8) of <paramref name="value"/>.</summary>
    public void Write(int offset, int width, ulong value)
    {
        switch (width)
        {
            case 1: WriteByte(offset, (byte)value); break;
            case 2: WriteUInt16(offset, (ushort)value); break;
            case 4: WriteUInt32(offset, (uint)value); break;
            case 8: WriteUInt64(offset, value); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "Width must be 1, 2, 4 or 8.");
        }
    }

    /// <summary>A sub-window of this region.</summary>
    public ShadowRegion Slice(int offset, int length)
    {
        if ((uint)offset > (uint)Length || (uint)length > (uint)(Length - offset))
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is outside a {Length}-byte shadow region.");
        return new ShadowRegion(_pointer + offset, length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* At(int offset, int size)
    {
        // One unsigned compare covers negative offsets too.
        if ((uint)offset > (uint)(Length - size)) ThrowOutOfRange(offset, size, Length);
        return _pointer + offset;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfRange(int offset, int size, int length) =>
        throw new ArgumentOutOfRangeException(nameof(offset), $"{size}-byte access at {offset} is outside a {length}-byte shadow region.");
}
