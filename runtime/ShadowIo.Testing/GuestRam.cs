namespace ShadowIo.Testing;

/// <summary>
/// Guest RAM for driving a device without KVM (unit tests, fuzzers): an anonymous mapping
/// whose middle is registered in a <see cref="GuestMemory"/> at <see cref="BaseAddress"/>, with
/// red zones before and after filled with a pattern. If anything wrote past the registered
/// region, <see cref="RedZonesIntact"/> turns false.
/// </summary>
public sealed unsafe class GuestRam : IDisposable
{
    private const byte RedZonePattern = 0xA5;
    private readonly MemoryMapping _mapping;
    private readonly int _redZone;

    /// <summary>
    /// <paramref name="size"/> bytes of zeroed guest RAM at guest-physical <paramref name="baseAddress"/>,
    /// with <paramref name="redZone"/> bytes of pattern on each side in the same mapping.
    /// </summary>
    public GuestRam(ulong baseAddress, int size, int redZone = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _redZone = redZone;
        _mapping = MemoryMapping.CreateAnonymous((ulong)size + 2 * (ulong)redZone);
        BaseAddress = baseAddress;
        Size = size;
        _mapping.Span[..redZone].Fill(RedZonePattern);
        _mapping.Span[(redZone + size)..].Fill(RedZonePattern);
        Memory = new GuestMemory(new GuestMemory.Region(baseAddress, (ulong)size, (nint)(_mapping.Pointer + redZone)));
    }

    /// <summary>The RAM as the device sees it: one bounds-checked region, red zones outside it.</summary>
    public GuestMemory Memory { get; }

    /// <summary>Guest-physical address of the first byte.</summary>
    public ulong BaseAddress { get; }

    /// <summary>Size in bytes.</summary>
    public int Size { get; }

    /// <summary>Guest-physical address one past the last byte.</summary>
    public ulong EndAddress => BaseAddress + (ulong)Size;

    /// <summary>The guest-visible bytes (test side: what the guest itself would see).</summary>
    public Span<byte> Bytes => _mapping.Span.Slice(_redZone, Size);

    /// <summary><paramref name="length"/> guest bytes at guest-physical <paramref name="gpa"/> (throws outside the RAM: test-side code, not device code).</summary>
    public Span<byte> At(ulong gpa, int length) => Bytes.Slice(checked((int)(gpa - BaseAddress)), length);

    /// <summary>False once anything wrote outside the registered region (into either red zone).</summary>
    public bool RedZonesIntact()
    {
        var span = _mapping.Span;
        return !span[.._redZone].ContainsAnyExcept(RedZonePattern) && !span[(_redZone + Size)..].ContainsAnyExcept(RedZonePattern);
    }

    /// <inheritdoc/>
    public void Dispose() => _mapping.Dispose();
}
