using ShadowIo.Native;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.VfioUser.Server;

/// <summary>One handler per command; each returns 0 with its reply in <c>_reply</c>, or an errno.</summary>
public sealed partial class VfioUserServer
{
    private bool _negotiated;
    private bool _writeMultipleOffered;
    private int _clientMaxFds = ProtocolLimits.DefaultMaxMessageFds;
    private int _replyLength;
    private int _replyFdCount;
    private string? _problem;

    private void Dispatch(VfioUserChannel channel, in MessageHeader header)
    {
        _replyLength = 0;
        _replyFdCount = 0;
        _problem = null;
        int error;
        try
        {
            error = !_negotiated && header.Command != VfioUserCommand.Version
                ? Problem(Errno.EINVAL, "VERSION must come first")
                : Handle(header);
        }
        catch (Exception e) when (e is not IOException)
        {
            // A device's dispatch threw: its bug, reported to the client, not the end of the link.
            Interlocked.Increment(ref Statistics.DeviceFailuresField);
            error = Problem(Errno.EIO, $"the device failed: {e.GetType().Name}: {e.Message}");
        }
        if (error != 0)
        {
            Refuse(channel, header, error, _problem ?? "invalid request");
            return;
        }
        if (header.NoReply) return;
        var reply = MessageHeader.ForReply(header, _replyLength);
        if (!channel.Send(reply, _reply.AsSpan(0, _replyLength), _replyFds.AsSpan(0, _replyFdCount)))
            throw new IOException("the client has gone");
    }

    private int Handle(in MessageHeader header)
    {
        var payload = _message.Payload;
        int fdCount = _message.Fds.Count;
        switch (header.Command)
        {
            case VfioUserCommand.Version: return HandleVersion(payload, fdCount);
            case VfioUserCommand.DmaMap: return HandleDmaMap(payload, fdCount);
            case VfioUserCommand.DmaUnmap: return HandleDmaUnmap(payload, fdCount);
            case VfioUserCommand.DeviceGetInfo: return HandleGetInfo(payload, fdCount);
            case VfioUserCommand.DeviceGetRegionInfo: return HandleRegionInfo(payload, fdCount);
            case VfioUserCommand.DeviceGetRegionIoFds: return HandleRegionIoFds(payload, fdCount);
            case VfioUserCommand.DeviceGetIrqInfo: return HandleIrqInfo(payload, fdCount);
            case VfioUserCommand.DeviceSetIrqs: return HandleSetIrqs(payload, fdCount);
            case VfioUserCommand.RegionRead: return HandleRegionRead(payload, fdCount);
            case VfioUserCommand.RegionWrite: return HandleRegionWrite(payload, fdCount, header.NoReply);
            case VfioUserCommand.RegionWriteMulti: return HandleWriteMulti(payload, fdCount, header.NoReply);
            case VfioUserCommand.DeviceReset: return HandleReset(fdCount);
            case VfioUserCommand.DeviceFeature:
            case VfioUserCommand.MigDataRead:
            case VfioUserCommand.MigDataWrite:
                return Problem(Errno.ENOTSUP, "migration and device features are not offered");
            default:
                // DMA_READ/DMA_WRITE go server to client; anything else is no command at all.
                return Problem(Errno.EINVAL, "not a command a client sends");
        }
    }

    private int HandleVersion(ReadOnlySpan<byte> payload, int fdCount)
    {
        if (_negotiated) return Problem(Errno.EINVAL, "VERSION sent twice");
        if (fdCount != 0) return Problem(Errno.EINVAL, "VERSION with fds");
        int error = VersionMessage.Decode(payload, out var proposal);
        if (error != 0) return Problem(error, "malformed VERSION");
        // The spec: the server answers the client's major (refusing one it does not speak) and a minor no greater than proposed.
        if (proposal.Major != 0) return Problem(Errno.ENOTSUP, $"protocol major {proposal.Major}; this server speaks 0");
        var theirs = proposal.Capabilities;
        if (theirs.PageSizes is { } pages && (pages & 4096) == 0) return Problem(Errno.ENOTSUP, $"pgsizes 0x{pages:x} lacks 4 KiB");
        if (theirs.MaxMessageFds is { } fds) _clientMaxFds = (int)Math.Clamp(fds, 1, MaxSendFds);
        VersionCapabilities ours = default;
        if (payload.Length > VersionMessage.FixedSize)
        {
            // A subset of what the client proposed; QEMU refuses a reply longer than its request,
            // so a client that sent no JSON gets none (its defaults then apply both ways).
            _writeMultipleOffered = theirs.WriteMultiple == true;
            ours = new VersionCapabilities
            {
                MaxMessageFds = (uint)Limits.MaxMessageFds,
                MaxDataTransferSize = Math.Min(Limits.MaxDataTransferSize, theirs.MaxDataTransferSize ?? Limits.MaxDataTransferSize),
                MaxDmaMaps = Math.Min((ulong)MaxDmaMaps, theirs.MaxDmaMaps ?? MaxDmaMaps),
                PageSizes = 4096,
                WriteMultiple = _writeMultipleOffered ? true : null,
            };
        }
        var reply = new VersionMessage(0, 0, ours);
        _replyLength = reply.Encode(_reply);
        if (_replyLength > payload.Length && payload.Length > VersionMessage.FixedSize)
            _replyLength = new VersionMessage(0, 0, default).Encode(_reply);
        _negotiated = true;
        return 0;
    }

    private int HandleDmaMap(ReadOnlySpan<byte> payload, int fdCount)
    {
        int error = DmaMapRequest.Decode(payload, fdCount, out var request);
        if (error != 0) return Problem(error, "malformed DMA_MAP");
        var fd = fdCount == 1 ? _message.Fds.Take(0) : null;
        error = _dma.Map(request, fd, out string? problem);
        if (error != 0) return Problem(error, problem ?? "DMA_MAP refused");
        Interlocked.Increment(ref Statistics.DmaMapsField);
        return 0;
    }

    private int HandleDmaUnmap(ReadOnlySpan<byte> payload, int fdCount)
    {
        int error = DmaUnmapRequest.Decode(payload, fdCount, out var request);
        if (error != 0) return Problem(error, "malformed DMA_UNMAP");
        error = _dma.Unmap(request);
        if (error != 0) return Problem(error, $"no map at exactly [0x{request.Address:x}, +0x{request.Size:x})");
        Interlocked.Increment(ref Statistics.DmaUnmapsField);
        _replyLength = request.Encode(_reply);
        return 0;
    }

    private int HandleGetInfo(ReadOnlySpan<byte> payload, int fdCount)
    {
        int error = DeviceInfo.DecodeRequest(payload, fdCount);
        if (error != 0) return Problem(error, "malformed DEVICE_GET_INFO");
        _replyLength = new DeviceInfo(DeviceInfoFlags.Pci | DeviceInfoFlags.Reset, RegionIndex.Count, IrqIndex.Count).EncodeReply(_reply);
        return 0;
    }

    private int HandleRegionInfo(ReadOnlySpan<byte> payload, int fdCount)
    {
        int error = RegionInfo.DecodeRequest(payload, fdCount, out uint argsz, out uint index);
        if (error != 0) return Problem(error, "malformed GET_REGION_INFO");
        ulong size = RegionSize(index);
        var flags = size == 0 ? 0 : RegionFlags.Read | RegionFlags.Write;
        if (MappedDoorbells(index) is { } doorbells)
        {
            // The BAR's "file" is the doorbell set's memfd, laid out like the BAR (PciBar checks
            // the block starts at its base), so the region's fd offset is 0 and the one sparse
            // area is the doorbell page: QEMU maps just that into the guest (hw/vfio/region.c
            // maps each area at fd_offset + area offset) and every other BAR0 offset still traps.
            // A region with MMAP but no SPARSE_MMAP would be mapped whole, so the capability
            // always goes with the flag; the fd only with the full answer (QEMU asks again with
            // the argsz the short one named, and that answer is the one it keeps).
            SparseMmapArea page = new(doorbells.MappableOffset!.Value, doorbells.ShadowPageLength);
            _replyLength = RegionInfo.EncodeReply(_reply, argsz, flags | RegionFlags.Mmap, index, size, 0, [page]);
            if (argsz >= RegionInfo.ReplySize(1)) _replyFds[_replyFdCount++] = doorbells.ShadowFd;
            return 0;
        }
        // Offsets in the device's "file" as libvfio-user numbers them (index << 40); nothing else is mmappable.
        _replyLength = RegionInfo.EncodeReply(_reply, argsz, flags, index, size, (ulong)index << 40, default);
        return 0;
    }

    /// <summary>The doorbells of BAR <paramref name="index"/> when their page is offered for mmap (a <see cref="DoorbellSet.CreateMappable"/> set), else null.</summary>
    private DoorbellSet? MappedDoorbells(uint index) =>
        index <= RegionIndex.Bar5 && ConfigSpace.GetBar((int)index) is { Doorbells: { MappableOffset: not null } doorbells } ? doorbells : null;

    private int HandleRegionIoFds(ReadOnlySpan<byte> payload, int fdCount)
    {
        int error = RegionIoFds.DecodeRequest(payload, fdCount, out uint argsz, out uint index);
        if (error != 0) return Problem(error, "malformed GET_REGION_IO_FDS");
        var bar = index <= RegionIndex.Bar5 ? ConfigSpace.GetBar((int)index) : null;
        var doorbells = bar?.Doorbells;
        if (doorbells == null)
        {
            (_replyLength, _) = RegionIoFds.EncodeReply(_reply, argsz, index, default);
            return 0;
        }
        var entries = new List<RegionIoFdEntry>(doorbells.BoundCount);
        bool anyValue = false;
        for (int row = 0; row < doorbells.Table.Count; row++)
            anyValue |= doorbells.IsBound(row) && doorbells.Table[row].Kind == DoorbellKind.Value;
        // fd 0 is the shadow memfd every IOEVENTFD_SHADOW entry shares; the eventfds follow.
        int fdIndex = anyValue ? 1 : 0;
        for (int row = 0; row < doorbells.Table.Count; row++)
        {
            if (!doorbells.IsBound(row)) continue;
            ref readonly var e = ref doorbells.Table[row];
            var flags = e.HasDataMatch ? IoFdFlags.DataMatch : 0;
            ulong offset = bar!.DoorbellOffset + e.Offset;   // the region's offset, not the block's
            entries.Add(e.Kind == DoorbellKind.Value
                ? new RegionIoFdEntry(offset, (ulong)e.Width, (uint)fdIndex, IoFdType.IoEventFdShadow, flags, 0, doorbells.ShadowFileOffset + (ulong)e.ShadowOffset, e.DataMatch)
                : new RegionIoFdEntry(offset, (ulong)e.Width, (uint)fdIndex, IoFdType.IoEventFd, flags, 0, 0, e.DataMatch));
            fdIndex++;
        }
        bool withEntries;
        (_replyLength, withEntries) = RegionIoFds.EncodeReply(_reply, argsz, index, entries.ToArray());
        if (!withEntries) return 0;
        if (fdIndex > _clientMaxFds)
            return Problem(Errno.E2BIG, $"{fdIndex} fds for the doorbells of region {index}; the client takes {_clientMaxFds} per message");
        _replyFdCount = 0;
        if (anyValue) _replyFds[_replyFdCount++] = doorbells.ShadowFd;
        for (int row = 0; row < doorbells.Table.Count; row++)
        {
            if (doorbells.EventFdOf(row) is { } eventFd) _replyFds[_replyFdCount++] = eventFd.Fd;
        }
        return 0;
    }

    private int HandleIrqInfo(ReadOnlySpan<byte> payload, int fdCount)
    {
        int error = IrqInfo.DecodeRequest(payload, fdCount, out uint index);
        if (error != 0) return Problem(error, "malformed GET_IRQ_INFO");
        _replyLength = Interrupts.Info(index).EncodeReply(_reply);
        return 0;
    }

    private int HandleSetIrqs(ReadOnlySpan<byte> payload, int fdCount)
    {
        int error = IrqSetRequest.Decode(payload, fdCount, out var request, out var boolData);
        if (error != 0) return Problem(error, "malformed SET_IRQS");
        error = Interrupts.Apply(request, boolData, _message.Fds, out string? problem);
        return error != 0 ? Problem(error, problem ?? "SET_IRQS refused") : 0;
    }

    private int HandleRegionRead(ReadOnlySpan<byte> payload, int fdCount)
    {
        int error = RegionAccess.DecodeReadRequest(payload, fdCount, Limits, out var access);
        if (error != 0) return Problem(error, "malformed REGION_READ");
        Interlocked.Increment(ref Statistics.RegionReadsField);
        var data = _reply.AsSpan(RegionAccess.HeaderSize, (int)access.Count);
        error = AccessRegion(access.Region, access.Offset, data, write: false);
        if (error != 0) return error;
        _replyLength = access.Encode(_reply, data);
        return 0;
    }

    private int HandleRegionWrite(ReadOnlySpan<byte> payload, int fdCount, bool posted)
    {
        int error = RegionAccess.DecodeWriteRequest(payload, fdCount, Limits, out var access, out var data);
        if (error != 0) return Problem(error, "malformed REGION_WRITE");
        CountWrite(posted);
        // The data lives in the receive buffer, which nothing overwrites before the next message.
        error = AccessRegion(access.Region, access.Offset, _message.PayloadBuffer.Slice(RegionAccess.HeaderSize, data.Length), write: true);
        if (error != 0) return error;
        _replyLength = access.Encode(_reply);
        return 0;
    }

    private int HandleWriteMulti(ReadOnlySpan<byte> payload, int fdCount, bool posted)
    {
        if (!_writeMultipleOffered) return Problem(Errno.EINVAL, "REGION_WRITE_MULTI without write_multiple negotiated");
        int error = RegionWriteMulti.DecodeRequest(payload, fdCount, out var writes);
        if (error != 0) return Problem(error, "malformed REGION_WRITE_MULTI");
        ulong completed = 0;
        for (int i = 0; i < writes.Count; i++)
        {
            var write = writes[i];
            CountWrite(posted);
            int at = sizeof(ulong) + i * RegionWriteMulti.EntrySize + RegionAccess.HeaderSize;
            error = AccessRegion(write.Access.Region, write.Access.Offset, _message.PayloadBuffer.Slice(at, (int)write.Access.Count), write: true);
            if (error != 0)
            {
                // The spec's reply says how many writes completed; the rest are not applied.
                if (posted) _log?.Invoke($"posted WRITE_MULTI stopped at write {i}: {_problem}");
                break;
            }
            completed++;
        }
        _replyLength = RegionWriteMulti.EncodeReply(_reply, completed);
        return 0;
    }

    private int HandleReset(int fdCount)
    {
        if (fdCount != 0) return Problem(Errno.EINVAL, "DEVICE_RESET with fds");
        Interlocked.Increment(ref Statistics.ResetsField);
        // VFIO's reset leaves the interrupt eventfds to the client (QEMU disables and re-enables around it).
        ConfigSpace.Reset();
        if (_function.Msix != null)
        {
            foreach (var bar in _function.Bars)
                if (bar.Index == _function.Msix.TableBar && bar.Device is MsixTable table) table.Reset();
        }
        _function.Reset?.Invoke();
        return 0;
    }

    private void CountWrite(bool posted)
    {
        Interlocked.Increment(ref Statistics.RegionWritesField);
        if (posted) Interlocked.Increment(ref Statistics.PostedWritesField);
    }

    private int Problem(int errno, string why)
    {
        _problem = why;
        return errno;
    }
}
