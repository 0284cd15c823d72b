using System.Diagnostics;
using ShadowIo.Native;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.VfioUser.Server;

/// <summary>
/// The client memory a vfio-user client mapped with DMA_MAP, and the <see cref="GuestMemory"/> a
/// device reaches it through. A map with an fd is mmapped (read-write maps are published to
/// <see cref="Memory"/>; read-only ones are mapped read-only and not published, since GuestMemory
/// has no read-only regions and a device write there would fault); a map without an fd is
/// recorded (its range is taken) but not accessible, as this server does no message DMA.
/// </summary>
/// <remarks>
/// <para>Checks (vfio-user.rst, DMA_MAP/DMA_UNMAP; VFIO's type1 rules): a range overlapping an
/// existing map is EEXIST; an unmap must match one map exactly (address and size), else ENOENT;
/// UNMAP ALL drops every map. An fd must be a regular file (a memfd is) holding the whole range
/// at a page-aligned offset: a page past the end of a file would raise SIGBUS when touched.</para>
/// <para>An unmapped range may still be in use by a device thread that took a span from
/// <see cref="Memory"/> just before the table changed, so its mapping is retired and unmapped
/// only after <see cref="RetireGracePeriod"/>.</para>
/// <para>Threading: the server thread changes the table; devices only read <see cref="Memory"/>,
/// whose region list is swapped atomically.</para>
/// </remarks>
internal sealed class DmaMapTable : IDisposable
{
    /// <summary>How long an unmapped range stays mapped; far above any single device copy.</summary>
    public static readonly TimeSpan RetireGracePeriod = TimeSpan.FromSeconds(2);

    private const ulong PageSize = 4096;

    private readonly List<DmaMapping> _maps = [];
    private readonly List<(MemoryMapping Mapping, long RetiredAt)> _retired = [];

    /// <summary>One DMA_MAP in force.</summary>
    /// <param name="Address">Client (guest physical) address.</param>
    /// <param name="Size">Length.</param>
    /// <param name="Flags">READ, WRITE.</param>
    /// <param name="Mapping">The mmapped fd, or null for a map without an fd.</param>
    public sealed record DmaMapping(ulong Address, ulong Size, DmaMapFlags Flags, MemoryMapping? Mapping)
    {
        /// <summary>Whether a device reaches it through <see cref="DmaMapTable.Memory"/>.</summary>
        public bool IsPublished => Mapping != null && (Flags & DmaMapFlags.Write) != 0 && (Flags & DmaMapFlags.Read) != 0;
    }

    /// <param name="memory">Where read-write maps are published (the device's guest memory).</param>
    /// <param name="maxMaps">The most maps at once (the max_dma_maps the server offered).</param>
    public DmaMapTable(GuestMemory memory, int maxMaps)
    {
        Memory = memory;
        MaxMaps = maxMaps;
    }

    /// <summary>The device's view: the published maps.</summary>
    public GuestMemory Memory { get; }

    /// <summary>The most maps at once.</summary>
    public int MaxMaps { get; }

    /// <summary>Maps in force.</summary>
    public int Count => _maps.Count;

    /// <summary>Mappings unmapped by the client and still waiting out their grace period.</summary>
    public int RetiredCount => _retired.Count;

    /// <summary>The maps in force, by address.</summary>
    public IReadOnlyList<DmaMapping> Maps => _maps;

    /// <summary>
    /// Adds a map; takes ownership of <paramref name="fd"/> (kept by the mapping or closed). Returns
    /// 0, EEXIST for an overlap, ENOSPC past <see cref="MaxMaps"/>, EINVAL for an fd that is not a
    /// regular file holding the range at a page-aligned offset, or the errno of a failed mmap.
    /// </summary>
    public int Map(in DmaMapRequest request, FileDescriptorHandle? fd, out string? problem)
    {
        problem = Check(request, fd);
        if (problem != null)
        {
            fd?.Dispose();
            return problem.StartsWith("overlap", StringComparison.Ordinal) ? Errno.EEXIST
                : problem.StartsWith("full", StringComparison.Ordinal) ? Errno.ENOSPC : Errno.EINVAL;
        }
        MemoryMapping? mapping = null;
        if (fd != null)
        {
            try
            {
                // The mapping owns the handle from here (MapFd closes it when mmap fails).
                mapping = MemoryMapping.MapFd(fd, request.Size, $"DMA map at 0x{request.Address:x}", (long)request.Offset, (request.Flags & DmaMapFlags.Write) != 0);
            }
            catch (IOException e)
            {
                problem = e.Message;
                return Errno.ENOMEM;
            }
        }
        _maps.Insert(FindInsertionIndex(request.Address), new DmaMapping(request.Address, request.Size, request.Flags, mapping));
        Publish();
        return 0;
    }

    /// <summary>Why a map cannot be added ("overlap…", "full…" or an fd problem), or null.</summary>
    private string? Check(in DmaMapRequest request, FileDescriptorHandle? fd)
    {
        int at = FindInsertionIndex(request.Address);
        if ((at > 0 && Overlaps(_maps[at - 1], request.Address, request.Size)) || (at < _maps.Count && Overlaps(_maps[at], request.Address, request.Size)))
            return $"overlap: [0x{request.Address:x}, +0x{request.Size:x}) overlaps a map";
        if (_maps.Count >= MaxMaps)
            return $"full: {MaxMaps} maps already";
        if (fd == null)
            return null;
        if (!FileDescriptors.IsRegularFile(fd.Fd, out long fileSize))
            return "the fd is not a regular file or memfd";
        if (request.Offset % PageSize != 0 || request.Offset > (ulong)fileSize || request.Size > (ulong)fileSize - request.Offset)
            return $"range 0x{request.Offset:x} + 0x{request.Size:x} of a {fileSize}-byte file (offset not page-aligned or past the end)";
        if (request.Size > int.MaxValue * 64UL)
            return "larger than this server maps";
        return null;
    }

    /// <summary>Removes the map at exactly this range (0) or every map (ALL); ENOENT when none matches.</summary>
    public int Unmap(in DmaUnmapRequest request)
    {
        if ((request.Flags & DmaUnmapFlags.All) != 0)
        {
            foreach (var map in _maps) Retire(map);
            _maps.Clear();
            Publish();
            return 0;
        }
        int at = FindInsertionIndex(request.Address);
        if (at < _maps.Count && _maps[at].Address == request.Address && _maps[at].Size == request.Size)
        {
            Retire(_maps[at]);
            _maps.RemoveAt(at);
            Publish();
            return 0;
        }
        return Errno.ENOENT;
    }

    /// <summary>Drops every map and unmaps at once: only when no device thread can still touch guest memory.</summary>
    public void Dispose()
    {
        foreach (var map in _maps) map.Mapping?.Dispose();
        _maps.Clear();
        Memory.SetRegions([]);
        foreach (var (mapping, _) in _retired) mapping.Dispose();
        _retired.Clear();
    }

    /// <summary>Unmaps the retired mappings whose grace period is over.</summary>
    public void ReleaseRetired()
    {
        long now = Stopwatch.GetTimestamp();
        _retired.RemoveAll(r =>
        {
            if (Stopwatch.GetElapsedTime(r.RetiredAt, now) < RetireGracePeriod) return false;
            r.Mapping.Dispose();
            return true;
        });
    }

    private void Retire(DmaMapping map)
    {
        if (map.Mapping != null) _retired.Add((map.Mapping, Stopwatch.GetTimestamp()));
    }

    private unsafe void Publish()
    {
        var regions = new List<GuestMemory.Region>(_maps.Count);
        foreach (var map in _maps)
        {
            if (map.IsPublished)
                regions.Add(new GuestMemory.Region(map.Address, map.Size, (nint)map.Mapping!.Pointer));
        }
        Memory.SetRegions(regions.ToArray());
        ReleaseRetired();
    }

    /// <summary>The index of the first map whose address is not below <paramref name="address"/>.</summary>
    private int FindInsertionIndex(ulong address)
    {
        int low = 0, high = _maps.Count;
        while (low < high)
        {
            int mid = (low + high) / 2;
            if (_maps[mid].Address < address) low = mid + 1;
            else high = mid;
        }
        return low;
    }

    // The decoder guarantees address + size does not wrap, so no sum here can overflow.
    private static bool Overlaps(DmaMapping map, ulong address, ulong size) =>
        address < map.Address + map.Size && map.Address < address + size;
}
