namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// Guest RAM for driving the controller without KVM (tests, the fuzzer): an anonymous mapping
/// whose middle is registered in a <see cref="GuestMemory"/> at <see cref="BaseAddress"/>, with
/// red zones before and after filled with a pattern. If anything wrote past the registered
/// region, <see cref="RedZonesIntact"/> turns false.
/// </summary>
public sealed unsafe class GuestRam : IDisposable
{
    private const byte RedZonePattern = 0xA5;
    private readonly MemoryMapping _mapping;
    private readonly int _redZone;

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

    public GuestMemory Memory { get; }

    public ulong BaseAddress { get; }

    public int Size { get; }

    public ulong EndAddress => BaseAddress + (ulong)Size;

    /// <summary>The guest-visible bytes (test side: what the guest itself would see).</summary>
    public Span<byte> Bytes => _mapping.Span.Slice(_redZone, Size);

    public Span<byte> At(ulong gpa, int length) => Bytes.Slice(checked((int)(gpa - BaseAddress)), length);

    public bool RedZonesIntact()
    {
        var span = _mapping.Span;
        return !span[.._redZone].ContainsAnyExcept(RedZonePattern) && !span[(_redZone + Size)..].ContainsAnyExcept(RedZonePattern);
    }

    public void Dispose() => _mapping.Dispose();
}
