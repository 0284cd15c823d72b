namespace ShadowIo.Devices.Nvme;

/// <summary>One physically contiguous piece of a data transfer in guest memory.</summary>
internal readonly record struct GuestSegment(ulong Address, int Length);

/// <summary>
/// Resolves a command's PRP1/PRP2 into guest segments (NVMe base spec 4.3 "Physical Region Page
/// Entry and List"). Memory page size is 4 KiB (CAP.MPSMIN = MPSMAX = 0).
/// </summary>
/// <remarks>
/// Everything here is guest-controlled: list entries are read with <see cref="GuestMemory"/>'s
/// bounds-checked reads, and the walk is bounded by the transfer length, so a list that points
/// back at itself or runs off the end of RAM ends in an error status instead of a loop.
/// </remarks>
internal static class PrpList
{
    public const int PageSize = 4096;
    private const ulong PageMask = PageSize - 1;

    /// <summary>Segments a transfer of <paramref name="length"/> bytes can need at most.</summary>
    public static int MaxSegments(int length) => length / PageSize + 2;

    public static NvmeStatus TryResolve(GuestMemory memory, ulong prp1, ulong prp2, int length, Span<GuestSegment> segments, out int count)
    {
        count = 0;
        if (length <= 0) return NvmeStatus.Success;

        // PRP1 may start anywhere in a page but must be dword aligned.
        if ((prp1 & 0x3) != 0) return NvmeStatus.InvalidPrpOffset;
        int first = (int)Math.Min((ulong)length, PageSize - (prp1 & PageMask));
        if (!Add(segments, ref count, prp1, first)) return NvmeStatus.InvalidField;
        int remaining = length - first;
        if (remaining == 0) return NvmeStatus.Success;

        // Up to one more page: PRP2 is the data pointer itself, page aligned.
        if (remaining <= PageSize)
        {
            if ((prp2 & PageMask) != 0) return NvmeStatus.InvalidPrpOffset;
            return Add(segments, ref count, prp2, remaining) ? NvmeStatus.Success : NvmeStatus.InvalidField;
        }

        // More: PRP2 points at a PRP list (qword aligned, may start inside a page). The last entry
        // of each list page points at the next list page when more data remains.
        ulong entryAddress = prp2;
        if ((entryAddress & 0x7) != 0) return NvmeStatus.InvalidPrpOffset;
        int entriesLeftInPage = (int)((PageSize - (entryAddress & PageMask)) / sizeof(ulong));
        int hops = 0;
        int maxHops = segments.Length;
        while (remaining > 0)
        {
            if (!memory.TryRead(entryAddress, out ulong entry)) return NvmeStatus.DataTransferError;
            if (entriesLeftInPage == 1 && remaining > PageSize)
            {
                // Chained list. A chain that never yields data (a loop) is cut off here.
                if (++hops > maxHops || (entry & 0x7) != 0) return NvmeStatus.InvalidPrpOffset;
                entryAddress = entry;
                entriesLeftInPage = (int)((PageSize - (entry & PageMask)) / sizeof(ulong));
                continue;
            }
            if ((entry & PageMask) != 0) return NvmeStatus.InvalidPrpOffset;
            int chunk = Math.Min(remaining, PageSize);
            if (!Add(segments, ref count, entry, chunk)) return NvmeStatus.InvalidField;
            remaining -= chunk;
            entryAddress += sizeof(ulong);
            entriesLeftInPage--;
        }
        return NvmeStatus.Success;
    }

    private static bool Add(Span<GuestSegment> segments, ref int count, ulong address, int length)
    {
        if (count >= segments.Length) return false;
        segments[count++] = new GuestSegment(address, length);
        return true;
    }

    /// <summary>Copies guest segments into <paramref name="destination"/> (a Write's data).</summary>
    public static bool TryGather(GuestMemory memory, ReadOnlySpan<GuestSegment> segments, Span<byte> destination)
    {
        int at = 0;
        foreach (var s in segments)
        {
            if (!memory.TryRead(s.Address, destination.Slice(at, s.Length))) return false;
            at += s.Length;
        }
        return true;
    }

    /// <summary>Copies <paramref name="source"/> out to guest segments (a Read's data).</summary>
    public static bool TryScatter(GuestMemory memory, ReadOnlySpan<GuestSegment> segments, ReadOnlySpan<byte> source)
    {
        int at = 0;
        foreach (var s in segments)
        {
            if (!memory.TryWrite(s.Address, source.Slice(at, s.Length))) return false;
            at += s.Length;
        }
        return true;
    }
}
