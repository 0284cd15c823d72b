using System.Buffers.Binary;

namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// The fuzzing host's copy of guest RAM: every byte as the host last wrote it, or as a controller
/// write the checks allowed left it. The host writes through here (RAM and copy at once); the
/// checks apply what the controller was allowed to write (<see cref="Expect"/>, <see cref="Accept"/>),
/// and any other difference between RAM and the copy is a DMA write outside what the commands
/// fetched permitted. One vectorised compare of the whole of RAM keeps that cheap enough to run
/// after every input.
/// </summary>
internal sealed class ExpectedGuestRam
{
    private sealed record GuardBytes(ulong Base, byte[] Bytes);

    private static GuardBytes? s_guard;
    private readonly GuestRam _ram;
    private readonly byte[] _expected;
    private readonly byte[] _guard;

    public ExpectedGuestRam(GuestRam ram)
    {
        _ram = ram;
        _expected = new byte[ram.Size];
        // Guard bytes for all of RAM, computed once (episodes reuse the same RAM): fills are copies.
        var cached = s_guard;
        if (cached is null || cached.Base != ram.BaseAddress || cached.Bytes.Length != ram.Size)
        {
            var bytes = new byte[ram.Size];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = Guard(ram.BaseAddress + (ulong)i);
            s_guard = cached = new GuardBytes(ram.BaseAddress, bytes);
        }
        _guard = cached.Bytes;
    }

    public GuestRam Ram => _ram;

    /// <summary>
    /// The guard byte at an address: a hash of the address, so neighbouring bytes and pages
    /// differ and a stray copy of data (or of another page's guard) rarely matches what it hits.
    /// </summary>
    public static byte Guard(ulong gpa) => (byte)((gpa * 0x9E37_79B9_7F4A_7C15UL) >> 56);

    /// <summary>Whether [gpa, gpa + length) lies wholly in RAM (GuestMemory refuses anything else).</summary>
    public bool Contains(ulong gpa, int length) =>
        length >= 0 && gpa >= _ram.BaseAddress && gpa - _ram.BaseAddress <= (ulong)_ram.Size && (ulong)length <= (ulong)_ram.Size - (gpa - _ram.BaseAddress);

    /// <summary>What the guest sees now (host reads: completions, EventIdx, list entries).</summary>
    public ReadOnlySpan<byte> Read(ulong gpa, int length) => _ram.At(gpa, length);

    public bool TryReadUInt64(ulong gpa, out ulong value)
    {
        value = Contains(gpa, 8) ? BinaryPrimitives.ReadUInt64LittleEndian(_ram.At(gpa, 8)) : 0;
        return Contains(gpa, 8);
    }

    // ---------------------------------------------------------------- host writes

    public void Write(ulong gpa, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_ram.At(gpa, bytes.Length));
        bytes.CopyTo(Expected(gpa, bytes.Length));
    }

    public void WriteUInt32(ulong gpa, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        Write(gpa, bytes);
    }

    public void WriteUInt64(ulong gpa, ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        Write(gpa, bytes);
    }

    public void Clear(ulong gpa, int length)
    {
        _ram.At(gpa, length).Clear();
        Expected(gpa, length).Clear();
    }

    /// <summary>Fills a range with its guard bytes (the host hands the range to the controller or to no one).</summary>
    public void FillGuard(ulong gpa, int length)
    {
        var guard = _guard.AsSpan(checked((int)(gpa - _ram.BaseAddress)), length);
        guard.CopyTo(_ram.At(gpa, length));
        guard.CopyTo(Expected(gpa, length));
    }

    /// <summary>All of RAM to guard bytes: what no buffer covers must stay exactly so.</summary>
    public void FillGuardEverywhere() => FillGuard(_ram.BaseAddress, _ram.Size);

    // ---------------------------------------------------------------- controller writes the checks allow

    /// <summary>The controller was allowed to write [gpa, gpa + length) with anything (its content is checked elsewhere, or is undefined).</summary>
    public void Accept(ulong gpa, int length)
    {
        if (Contains(gpa, length)) _ram.At(gpa, length).CopyTo(Expected(gpa, length));
    }

    /// <summary>The controller must have written exactly <paramref name="data"/> at <paramref name="gpa"/>.</summary>
    public void Expect(ulong gpa, ReadOnlySpan<byte> data)
    {
        if (Contains(gpa, data.Length)) data.CopyTo(Expected(gpa, data.Length));
    }

    /// <summary>Whether the controller changed [gpa, gpa + length) since the host or a check last settled it.</summary>
    public bool Changed(ulong gpa, int length) => Contains(gpa, length) && !_ram.At(gpa, length).SequenceEqual(Expected(gpa, length));

    /// <summary>
    /// Compares all of RAM with the copy. On a difference: the first differing address, what the
    /// copy holds and RAM holds there, and how many bytes differ in all.
    /// </summary>
    public bool Matches(out ulong firstAddress, out byte expected, out byte found, out int differing)
    {
        var ram = _ram.Bytes;
        int first = ram.CommonPrefixLength(_expected);
        firstAddress = 0;
        expected = found = 0;
        differing = 0;
        if (first == ram.Length) return true;
        firstAddress = _ram.BaseAddress + (ulong)first;
        expected = _expected[first];
        found = ram[first];
        for (int i = first; i < ram.Length; i++)
        {
            if (ram[i] != _expected[i]) differing++;
        }
        return false;
    }

    /// <summary>Takes RAM as it is (after a reported difference, so one stray write is reported once).</summary>
    public void Resync() => _ram.Bytes.CopyTo(_expected);

    private Span<byte> Expected(ulong gpa, int length) => _expected.AsSpan(checked((int)(gpa - _ram.BaseAddress)), length);
}

/// <summary>
/// The host's own reading of a command's PRP entries (NVMe base spec 4.3, "Physical Region Page
/// Entry and List"), kept apart from the controller's <c>PrpList</c> so the checks do not take
/// the controller's word for where a transfer may land. Memory page size 4 KiB (CC.MPS = 0).
/// </summary>
internal static class ModelPrps
{
    private const int Page = 4096;
    private const ulong Offset = Page - 1;

    /// <summary>
    /// The pieces of a transfer of <paramref name="length"/> bytes, in transfer order, as the spec
    /// lays them out; false where the spec makes the PRPs invalid. List entries are read from
    /// RAM as it is now, so call this when the controller walks the list (at fetch).
    /// </summary>
    public static bool TryWalk(ExpectedGuestRam ram, ulong prp1, ulong prp2, int length, List<(ulong Address, int Length)> segments)
    {
        segments.Clear();
        if (length <= 0) return true;
        // PRP1: any dword-aligned offset; the first piece runs to the end of its page.
        if ((prp1 & 0x3) != 0) return false;
        int first = (int)Math.Min((ulong)length, Page - (prp1 & Offset));
        segments.Add((prp1, first));
        int remaining = length - first;
        if (remaining == 0) return true;
        // At most one more page: PRP2 is that page (offset 0).
        if (remaining <= Page)
        {
            if ((prp2 & Offset) != 0) return false;
            segments.Add((prp2, remaining));
            return true;
        }
        // Otherwise PRP2 points at a PRP list (qword aligned); the last entry of a list page
        // points at the next list page while more than one page of data remains.
        if ((prp2 & 0x7) != 0) return false;
        ulong entry = prp2;
        int chainHops = 0;
        while (remaining > 0)
        {
            if (!ram.TryReadUInt64(entry, out ulong value)) return false;
            bool lastInPage = (entry & Offset) == Page - 8;
            if (lastInPage && remaining > Page)
            {
                // The controller's documented cut-off for a chain that yields no data (a loop):
                // more hops than the transfer has pages (+2) is refused.
                if (++chainHops > length / Page + 2 || (value & 0x7) != 0) return false;
                entry = value;
                continue;
            }
            if ((value & Offset) != 0) return false;
            int piece = Math.Min(remaining, Page);
            segments.Add((value, piece));
            remaining -= piece;
            entry += 8;
        }
        return true;
    }
}
