using System.Diagnostics;
using ShadowIo.Native;
using ShadowIo.Qemu.Protocol;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Memory;

/// <summary>
/// Keeps a <see cref="GuestMemory"/> in step with the SYNC_SYSMEM messages QEMU's proxy sends
/// (on every change of the guest memory map — over a hundred times per boot, each time with
/// freshly duplicated fds).
/// </summary>
/// <remarks>
/// <para>Each fd is identified by device and inode; a file already mapped is not mapped again
/// (the re-sent fd is closed at once), so re-sends of the same memfd cost one fstat per region.
/// A new file is mapped whole, so later layouts that cut the same RAM differently (PAM, SMRAM,
/// ROM shadowing) reuse that mapping; a region reaching past the end of its file is refused
/// (touching those pages would raise SIGBUS).</para>
/// <para>The region table is replaced atomically (<see cref="GuestMemory.SetRegions"/>); a
/// mapping that no region uses any more is retired and unmapped only after a grace period,
/// because a device thread may be inside a copy through a span it obtained just before the
/// swap. Malformed regions (zero size, overflowing, overlapping, unmappable) are logged and
/// skipped; the rest of the message still applies.</para>
/// </remarks>
public sealed class GuestRamMapper : IDisposable
{
    /// <summary>How long a retired mapping stays mapped; far above any single device copy.</summary>
    public static readonly TimeSpan RetireGracePeriod = TimeSpan.FromSeconds(2);

    private readonly List<FileMapping> _active = [];
    private readonly List<(FileMapping Mapping, long RetiredAt)> _retired = [];
    private readonly Action<string>? _log;
    private long _syncs;

    /// <summary>Starts with no mappings; the server creates it over its <see cref="QemuProxyServer.GuestMemory"/>.</summary>
    internal GuestRamMapper(GuestMemory memory, Action<string>? log = null)
    {
        Memory = memory;
        _log = log;
    }

    /// <summary>The guest memory this mapper publishes regions into.</summary>
    public GuestMemory Memory { get; }

    /// <summary>SYNC_SYSMEM messages applied.</summary>
    public long Syncs => Interlocked.Read(ref _syncs);

    /// <summary>Distinct mappings currently backing the guest memory map.</summary>
    public int ActiveMappings => _active.Count;

    /// <summary>
    /// Applies one memory map: region i is backed by <paramref name="fds"/>[i]. Takes ownership
    /// of every fd (each is either kept by a mapping or closed).
    /// </summary>
    internal void Apply(ReadOnlySpan<SysmemRegion> regions, ReadOnlySpan<FileDescriptorHandle> fds)
    {
        Debug.Assert(regions.Length == fds.Length);
        var used = new HashSet<FileMapping>();
        var table = new List<GuestMemory.Region>(regions.Length);
        for (int i = 0; i < regions.Length; i++)
        {
            var region = regions[i];
            var fd = fds[i];
            if (!IsWellFormed(region, out string? problem))
            {
                _log?.Invoke($"SYNC_SYSMEM region {i} skipped: {problem}");
                fd.Dispose();
                continue;
            }
            var mapping = FindOrMap(fd, region, i);
            if (mapping == null) continue;
            used.Add(mapping);
            unsafe
            {
                nint host = (nint)(mapping.Mapping.Pointer + (region.FileOffset - mapping.FileOffset));
                table.Add(new GuestMemory.Region(region.GuestPhysicalAddress, region.Size, host));
            }
        }
        Memory.SetRegions(DropOverlaps(table).ToArray());
        Interlocked.Increment(ref _syncs);

        long now = Stopwatch.GetTimestamp();
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            if (used.Contains(_active[i])) continue;
            _retired.Add((_active[i], now));
            _active.RemoveAt(i);
        }
        UnmapExpired(now);
    }

    /// <summary>Empties the guest memory map and unmaps everything at once (no grace period); the server's <see cref="QemuProxyServer.Dispose"/> calls it.</summary>
    public void Dispose()
    {
        Memory.SetRegions([]);
        foreach (var m in _active) m.Mapping.Dispose();
        foreach (var (m, _) in _retired) m.Mapping.Dispose();
        _active.Clear();
        _retired.Clear();
    }

    private static bool IsWellFormed(SysmemRegion region, out string? problem)
    {
        problem = null;
        if (region.Size == 0) problem = "size 0";
        else if (region.GuestPhysicalAddress + region.Size < region.GuestPhysicalAddress) problem = $"[0x{region.GuestPhysicalAddress:x}, +0x{region.Size:x}) wraps";
        else if (region.FileOffset < 0 || region.Size > long.MaxValue || region.FileOffset > long.MaxValue - (long)region.Size)
            problem = $"file range [0x{region.FileOffset:x}, +0x{region.Size:x}) is invalid";
        return problem == null;
    }

    private FileMapping? FindOrMap(FileDescriptorHandle fd, SysmemRegion region, int index)
    {
        if (!FileDescriptors.TryGetFileIdentity(fd.Fd, out var identity))
        {
            _log?.Invoke($"SYNC_SYSMEM region {index}: fstat failed (errno {Errno.Current}); skipped");
            fd.Dispose();
            return null;
        }
        long end = region.FileOffset + (long)region.Size;
        if (identity.Size < end)
        {
            // Pages past the end of the file would raise SIGBUS on first touch: refuse the region.
            _log?.Invoke($"SYNC_SYSMEM region {index} skipped: [0x{region.FileOffset:x}, 0x{end:x}) runs past the end of its file (0x{identity.Size:x} bytes)");
            fd.Dispose();
            return null;
        }
        foreach (var m in _active)
        {
            if (m.Device == identity.Device && m.Inode == identity.Inode &&
                m.FileOffset <= region.FileOffset && end <= m.FileOffset + (long)m.Mapping.Length)
            {
                fd.Dispose();
                return m;
            }
        }
        // The whole file: later layouts that cut the same RAM differently reuse this mapping.
        const long mapOffset = 0;
        long mapLength = identity.Size;
        try
        {
            var mapping = MemoryMapping.MapFd(fd, (ulong)mapLength, $"guest RAM region {index} (gpa 0x{region.GuestPhysicalAddress:x})", mapOffset);
            var fileMapping = new FileMapping(identity.Device, identity.Inode, mapOffset, mapping);
            _active.Add(fileMapping);
            return fileMapping;
        }
        catch (IOException e)
        {
            // MapFd closed the fd.
            _log?.Invoke($"SYNC_SYSMEM region {index} skipped: {e.Message}");
            return null;
        }
    }

    private List<GuestMemory.Region> DropOverlaps(List<GuestMemory.Region> table)
    {
        table.Sort(static (a, b) => a.GuestPhysicalAddress.CompareTo(b.GuestPhysicalAddress));
        var kept = new List<GuestMemory.Region>(table.Count);
        foreach (var r in table)
        {
            if (kept.Count > 0 && kept[^1].GuestPhysicalAddress + kept[^1].Size > r.GuestPhysicalAddress)
            {
                _log?.Invoke($"SYNC_SYSMEM region at 0x{r.GuestPhysicalAddress:x} overlaps the one at 0x{kept[^1].GuestPhysicalAddress:x}; skipped");
                continue;
            }
            kept.Add(r);
        }
        return kept;
    }

    private void UnmapExpired(long now)
    {
        for (int i = _retired.Count - 1; i >= 0; i--)
        {
            if (Stopwatch.GetElapsedTime(_retired[i].RetiredAt, now) < RetireGracePeriod) continue;
            _retired[i].Mapping.Mapping.Dispose();
            _retired.RemoveAt(i);
        }
    }

    private sealed record FileMapping(ulong Device, ulong Inode, long FileOffset, MemoryMapping Mapping);
}
