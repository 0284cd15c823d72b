using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Native;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.VfioUser.Client;

/// <summary>Attaching BARs: GET_REGION_IO_FDS into a <see cref="DoorbellSet"/> over the server's fds, bound with KVM here.</summary>
public sealed partial class VfioUserClient
{
    /// <summary>The largest shadow this client maps (libvfio-user's shadows are a page or two; NVMe's 128 doorbells take 512 bytes).</summary>
    private const ulong MaxShadowBytes = 1 << 20;

    /// <summary>
    /// Puts BAR <paramref name="barIndex"/> on <paramref name="bus"/> at <paramref name="gpa"/>.
    /// With a <paramref name="doorbellMode"/>, the server's region IO fds become KVM registrations
    /// of this VM, exactly as <see cref="DoorbellBinding.Create"/> registers an in-process block:
    /// an IOEVENTFD entry is a notify doorbell (a KVM ioeventfd on its address, datamatch honoured,
    /// except in <see cref="DoorbellBindingMode.Trap"/>); an IOEVENTFD_SHADOW entry is a value
    /// doorbell whose slot is the client's mapping of the server's shadow memfd at shadow_offset:
    /// with <see cref="DoorbellBindingMode.KernelPostWrite"/> (or BestAvailable on a kernel with
    /// the patch) KVM stores the value there and signals; otherwise the write exits and the bus's
    /// trap path stores into that same shadow and signals that same eventfd. Either way the device
    /// process learns of the write from its eventfd and reads the value from its shadow, and no
    /// message crosses the socket. Without a mode (null) no IO fds are asked for and every doorbell
    /// write is a REGION_WRITE, as with QEMU's client.
    /// </summary>
    /// <remarks>
    /// Entries this client cannot bind are left to REGION_WRITE, which the server's trap path
    /// serves the same way: IOREGIONFD entries and any-length (size 0) ioeventfds. Two entries at
    /// one offset, an eventfd index used twice, an fd that is not an eventfd, shadow entries
    /// naming different shadow fds, a shadow that is not a regular file or is too small for its
    /// slots, or a slot not aligned to its width are refused.
    /// </remarks>
    /// <exception cref="ArgumentException">The BAR is absent, or its window wraps.</exception>
    /// <exception cref="VfioUserException">The server refused or sent IO fds that fail the checks above.</exception>
    /// <exception cref="KvmException">KVM refused a registration, or post-write was asked for on a kernel without it.</exception>
    public VfioUserBar AttachBar(int barIndex, ulong gpa, MmioBus bus, KvmVm vm, DoorbellBindingMode? doorbellMode)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(vm);
        if (barIndex is < 0 or > (int)RegionIndex.Bar5 || Regions[barIndex].Size == 0)
            throw new ArgumentException($"BAR {barIndex} is absent from the device.", nameof(barIndex));
        var region = Regions[barIndex];
        if (gpa + region.Size < gpa) throw new ArgumentException($"BAR {barIndex} at 0x{gpa:x} (+0x{region.Size:x}) wraps the address space.", nameof(gpa));
        DoorbellBinding? binding = null;
        if (doorbellMode is { } mode)
        {
            var doorbells = ReadDoorbells(region);
            binding = DoorbellBinding.Bind(vm, doorbells, gpa, mode);
        }
        var bar = new VfioUserBar(this, bus, region, gpa, binding);
        try
        {
            bus.Add(gpa, region.Size, bar, binding);
        }
        catch
        {
            binding?.Dispose();
            throw;
        }
        lock (_gate) _bars.Add(bar);
        return bar;
    }

    internal void Detach(VfioUserBar bar)
    {
        lock (_gate) _bars.Remove(bar);
        bar.DisposeCore();
    }

    /// <summary>GET_REGION_IO_FDS for <paramref name="region"/>, checked, as a doorbell set owning the server's fds.</summary>
    private DoorbellSet ReadDoorbells(VfioUserRegion region)
    {
        lock (_gate)
        {
            // Room for the most entries a reply may hold (the decoder refuses more), so one request is enough.
            uint argsz = (uint)RegionIoFds.ReplySize(RegionIoFds.MaxEntries);
            int length = RegionIoFds.EncodeRequest(_request, argsz, region.Index);
            try
            {
                return ReadDoorbellsReply(region, argsz, length);
            }
            finally
            {
                // Whatever the reply carried that no doorbell kept (or all of it, when refused) closes now.
                _message.Fds.CloseAll();
            }
        }
    }

    /// <summary>Sends the request in <c>_request</c> and checks the reply; caller holds <c>_gate</c>.</summary>
    private DoorbellSet ReadDoorbellsReply(VfioUserRegion region, uint argsz, int length)
    {
        Exchange(VfioUserCommand.DeviceGetRegionIoFds, length, default, MaxReceiveFds);
        if (RegionIoFds.DecodeReply(_message.Payload, _message.Fds.Count, out uint index, out int count, out var entries) != 0)
            throw Broken($"GET_REGION_IO_FDS {region.Index}: the reply is malformed");
        if (index != region.Index) throw Broken($"GET_REGION_IO_FDS {region.Index}: the reply is for region {index}");
        // The size-only answer cannot be right: any count the decoder accepts fits what was offered.
        if (count > 0 && entries.Count == 0)
            throw Broken($"GET_REGION_IO_FDS {region.Index}: {count} entries announced, none sent, though {argsz} bytes were offered");
        return Adopt(region, entries);
    }

    /// <summary>Builds the table and the set from the checked entries; the fds it keeps are taken from the message, the rest close with it.</summary>
    private DoorbellSet Adopt(VfioUserRegion region, RegionIoFdEntries entries)
    {
        var rows = new List<DoorbellEntry>(entries.Count);
        var rowFds = new List<int>(entries.Count);
        var offsets = new HashSet<ulong>();
        var eventFdIndices = new HashSet<uint>();
        int shadowFdIndex = -1;
        ulong shadowEnd = 0;
        string name = $"vfio-user region {region.Index}";
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Type == IoFdType.IoRegionFd || e.Size == 0)
            {
                _log?.Invoke($"{name}: IO fd entry {i} ({e.Type}, size {e.Size}) is left to REGION_WRITE");
                continue;
            }
            string what = $"{name}: IO fd entry {i} (offset 0x{e.Offset:x}, size {e.Size})";
            if (e.Offset >= region.Size || e.Size > region.Size - e.Offset) throw Broken($"{what} lies outside the {region.Size}-byte region");
            if (!offsets.Add(e.Offset)) throw Broken($"{what}: a second doorbell at the same offset");
            if (!eventFdIndices.Add(e.FdIndex)) throw Broken($"{what}: its eventfd (fd {e.FdIndex}) serves another entry too");
            if (!FileDescriptors.IsEventFd(_message.Fds.Peek((int)e.FdIndex))) throw Broken($"{what}: fd {e.FdIndex} is not an eventfd");
            bool hasDataMatch = (e.Flags & IoFdFlags.DataMatch) != 0;
            int width = (int)e.Size;
            if (hasDataMatch && width < 8 && e.DataMatch >> (width * 8) != 0) throw Broken($"{what}: datamatch 0x{e.DataMatch:x} is wider than the doorbell");
            int shadowOffset = -1;
            var kind = DoorbellKind.Notify;
            if (e.Type == IoFdType.IoEventFdShadow)
            {
                if (shadowFdIndex < 0) shadowFdIndex = (int)e.ShadowFdIndex;
                else if (shadowFdIndex != (int)e.ShadowFdIndex) throw Broken($"{what}: a second shadow fd ({e.ShadowFdIndex}; the first was {shadowFdIndex})");
                // KVM's post-write stores with the access's width at post_addr, which must be aligned to it.
                if (e.ShadowOffset % e.Size != 0 || e.ShadowOffset > MaxShadowBytes - e.Size)
                    throw Broken($"{what}: shadow_offset 0x{e.ShadowOffset:x} is unaligned or past {MaxShadowBytes} bytes");
                shadowOffset = (int)e.ShadowOffset;
                shadowEnd = Math.Max(shadowEnd, e.ShadowOffset + e.Size);
                kind = DoorbellKind.Value;
            }
            rows.Add(new DoorbellEntry(name, i, e.Offset, width, kind, hasDataMatch, hasDataMatch ? e.DataMatch : 0, shadowOffset));
            rowFds.Add((int)e.FdIndex);
        }
        if (shadowFdIndex >= 0 && eventFdIndices.Contains((uint)shadowFdIndex)) throw Broken($"{name}: the shadow fd {shadowFdIndex} is also an entry's eventfd");
        var table = new DoorbellTable(name, region.Size, (int)shadowEnd, [.. rows]);
        var shadow = MapShadow(name, shadowFdIndex, shadowEnd);
        var eventFds = new EventFd?[rows.Count];
        try
        {
            for (int row = 0; row < rows.Count; row++)
            {
                var fd = _message.Fds.TakeEventFd(rowFds[row]);
                fd.SetNonBlocking();
                eventFds[row] = fd;
            }
        }
        catch
        {
            foreach (var fd in eventFds) fd?.Dispose();
            shadow.Dispose();
            throw;
        }
        // Every row trapped for now; DoorbellBinding.Bind sets what its mode serves.
        return DoorbellSet.Adopt(table, shadow, eventFds, static _ => true);
    }

    /// <summary>Maps the server's shadow memfd (its first <paramref name="end"/> bytes, page-rounded), or a local page when no entry has a shadow.</summary>
    private MemoryMapping MapShadow(string name, int fdIndex, ulong end)
    {
        if (fdIndex < 0) return MemoryMapping.CreateMemfd($"shadowio-{name}-no-shadow", 4096);
        int fd = _message.Fds.Peek(fdIndex);
        // Touching a mapped page past the end of the file raises SIGBUS: the file must hold every slot.
        if (!FileDescriptors.IsRegularFile(fd, out long size)) throw Broken($"{name}: the shadow fd {fdIndex} is not a regular file (memfd)");
        if ((ulong)size < end) throw Broken($"{name}: the shadow file has {size} bytes; its slots need {end}");
        ulong length = Math.Max(4096, (end + 4095) & ~4095UL);
        return MemoryMapping.MapFd(_message.Fds.Take(fdIndex), length, $"{name}'s shadow");
    }
}
