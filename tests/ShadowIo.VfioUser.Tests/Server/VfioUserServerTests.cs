using Xunit;
using System.Buffers.Binary;
using System.Text;
using ShadowIo.Native;
using ShadowIo.VfioUser.Protocol;
using ShadowIo.VfioUser.Tests.Protocol;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Server;

/// <summary>The server over a socketpair, driven by the tiny client of these tests as QEMU's vfio-user-pci drives it.</summary>
public sealed class VfioUserServerTests
{
    internal static byte[] Read(ulong offset, uint region, uint count)
    {
        var payload = new byte[RegionAccess.HeaderSize];
        new RegionAccess(offset, region, count).Encode(payload);
        return payload;
    }

    internal static byte[] Write(ulong offset, uint region, ReadOnlySpan<byte> data)
    {
        var payload = new byte[RegionAccess.HeaderSize + data.Length];
        new RegionAccess(offset, region, (uint)data.Length).Encode(payload, data);
        return payload;
    }

    internal static byte[] Write32(ulong offset, uint region, uint value) => Write(offset, region, BitConverter.GetBytes(value));

    private static byte[] DmaMap(DmaMapFlags flags, ulong offset, ulong address, ulong size)
    {
        var payload = new byte[DmaMapRequest.WireSize];
        new DmaMapRequest(flags, offset, address, size).Encode(payload);
        return payload;
    }

    private static byte[] DmaUnmap(DmaUnmapFlags flags, ulong address, ulong size)
    {
        var payload = new byte[DmaUnmapRequest.WireSize];
        new DmaUnmapRequest(flags, address, size).Encode(payload);
        return payload;
    }

    internal static byte[] SetIrqs(IrqSetFlags flags, uint index, uint start, uint count, ReadOnlySpan<byte> boolData = default)
    {
        var payload = new byte[IrqSetRequest.WireSize + boolData.Length];
        new IrqSetRequest(flags, index, start, count).Encode(payload, boolData);
        return payload;
    }

    private static void AssertError(TestClient.Reply reply, int errno)
    {
        Assert.True(reply.Header.IsError, $"expected errno {errno}, got a reply of {reply.Payload.Length} bytes");
        Assert.Equal((uint)errno, reply.Header.Error);
        Assert.Empty(reply.Payload);
    }

    internal static int NewEventFd() => eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    internal static unsafe ulong ReadEventFd(int fd)
    {
        ulong value = 0;
        return read(fd, &value, 8) == 8 ? value : 0;
    }

    [Fact]
    public void Version_answers_0_0_with_a_subset_of_what_qemu_proposed_and_no_longer_than_its_request()
    {
        using var served = new ServedFunction();
        var request = served.Client.VersionPayload("""{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576,"max_dma_maps":65535,"pgsizes":4096,"migration":{"pgsize":4096,"max_bitmap_size":1048576},"write_multiple":true}}""");
        var reply = served.Client.Request(VfioUserCommand.Version, request);
        Assert.False(reply.Header.IsError);
        Assert.True(reply.Payload.Length <= request.Length);
        Assert.Equal(0, VersionMessage.Decode(reply.Payload, out var version));
        Assert.Equal((ushort)0, version.Major);
        Assert.Equal((ushort)0, version.Minor);
        Assert.Equal(16u, version.Capabilities.MaxMessageFds);
        Assert.Equal(1048576ul, version.Capabilities.MaxDataTransferSize);
        Assert.Equal(4096ul, version.Capabilities.PageSizes);
        Assert.True(version.Capabilities.WriteMultiple);
        Assert.Null(version.Capabilities.Migration);

        AssertError(served.Client.Request(VfioUserCommand.Version, request), Errno.EINVAL);   // only once
    }

    [Fact]
    public void Nothing_but_version_is_answered_before_negotiation_and_a_bad_version_is_refused()
    {
        using var served = new ServedFunction();
        var info = new byte[DeviceInfo.WireSize];
        DeviceInfo.EncodeRequest(info);
        AssertError(served.Client.Request(VfioUserCommand.DeviceGetInfo, info), Errno.EINVAL);
        var major1 = new byte[4];
        major1[0] = 1;
        AssertError(served.Client.Request(VfioUserCommand.Version, major1), Errno.ENOTSUP);
        AssertError(served.Client.Request(VfioUserCommand.Version, served.Client.VersionPayload("{\"capabilities\":{\"pgsizes\":8192}}")), Errno.ENOTSUP);
        AssertError(served.Client.Request(VfioUserCommand.Version, served.Client.VersionPayload("{\"capabilities\":")), Errno.EINVAL);
        Assert.False(served.Client.Request(VfioUserCommand.Version, new byte[4]).Header.IsError);
        Assert.False(served.Client.Request(VfioUserCommand.DeviceGetInfo, info).Header.IsError);
    }

    [Fact]
    public void Device_region_and_irq_info_describe_a_pci_function_with_nine_regions_and_five_irqs()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        var request = new byte[DeviceInfo.WireSize];
        DeviceInfo.EncodeRequest(request);
        var reply = served.Client.Request(VfioUserCommand.DeviceGetInfo, request);
        Assert.Equal(0, DeviceInfo.DecodeReply(reply.Payload, out var info));
        Assert.Equal(new DeviceInfo(DeviceInfoFlags.Pci | DeviceInfoFlags.Reset, 9, 5), info);

        ulong[] sizes = [0x4000, 0, 0, 0, 0x2000, 0, 0, 256, 0];   // BAR4: the MSI-X table, its PBA on the next page
        for (uint index = 0; index < 9; index++)
        {
            var regionRequest = new byte[RegionInfo.WireSize];
            RegionInfo.EncodeRequest(regionRequest, RegionInfo.WireSize, index);
            var regionReply = served.Client.Request(VfioUserCommand.DeviceGetRegionInfo, regionRequest);
            Assert.Equal(0, RegionInfo.DecodeReply(regionReply.Payload, regionReply.Fds.Count, out var region, out _));
            Assert.Equal(index, region.Index);
            Assert.Equal(sizes[index], region.Size);
            Assert.Equal(sizes[index] == 0 ? 0 : RegionFlags.Read | RegionFlags.Write, region.Flags);
            Assert.Empty(regionReply.Fds);
        }
        var bad = new byte[RegionInfo.WireSize];
        RegionInfo.EncodeRequest(bad, RegionInfo.WireSize, 9);
        AssertError(served.Client.Request(VfioUserCommand.DeviceGetRegionInfo, bad), Errno.EINVAL);

        (uint Index, IrqInfoFlags Flags, uint Count)[] irqs =
        [
            (IrqIndex.Intx, IrqInfoFlags.EventFd | IrqInfoFlags.Maskable | IrqInfoFlags.AutoMasked, 1),
            (IrqIndex.Msi, 0, 0), (IrqIndex.Msix, IrqInfoFlags.EventFd, 4),
            (IrqIndex.Err, IrqInfoFlags.EventFd, 1), (IrqIndex.Req, IrqInfoFlags.EventFd, 1),
        ];
        foreach (var (index, flags, count) in irqs)
        {
            var irqRequest = new byte[IrqInfo.WireSize];
            IrqInfo.EncodeRequest(irqRequest, index);
            var irqReply = served.Client.Request(VfioUserCommand.DeviceGetIrqInfo, irqRequest);
            Assert.Equal(0, IrqInfo.DecodeReply(irqReply.Payload, out var irq));
            Assert.Equal(new IrqInfo(flags, index, count), irq);
        }
    }

    [Fact]
    public void Config_space_reads_whole_and_shows_the_msix_capability_writes_merge_through_the_masks()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        var reply = served.Client.Request(VfioUserCommand.RegionRead, Read(0, RegionIndex.Config, 256));
        Assert.Equal(0, RegionAccess.DecodeReadReply(reply.Payload, new RegionAccess(0, RegionIndex.Config, 256), out var config));
        Assert.Equal(0x5349_1b36u, BinaryPrimitives.ReadUInt32LittleEndian(config));
        Assert.Equal(0x4u, BinaryPrimitives.ReadUInt32LittleEndian(config[0x10..]));   // 64-bit memory BAR0
        Assert.Equal(0x40, config[0x34]);
        Assert.Equal(0x11, config[0x40]);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(config[0x42..]));    // 4 vectors
        Assert.Equal(0x4u, BinaryPrimitives.ReadUInt32LittleEndian(config[0x44..])); // table at 0 in BAR4

        Assert.False(served.Client.Request(VfioUserCommand.RegionWrite, Write(0x04, RegionIndex.Config, [0x07, 0x04])).Header.IsError);
        Assert.Equal(0x0407, served.Server.ConfigSpace.Command);
        served.Client.Request(VfioUserCommand.RegionWrite, Write(0x42, RegionIndex.Config, [0x00, 0x80]));
        Assert.True(served.Server.ConfigSpace.MsixEnabled);
        AssertError(served.Client.Request(VfioUserCommand.RegionRead, Read(0xff, RegionIndex.Config, 2)), Errno.EINVAL);
        AssertError(served.Client.Request(VfioUserCommand.RegionRead, Read(0, RegionIndex.Rom, 4)), Errno.EINVAL);
        AssertError(served.Client.Request(VfioUserCommand.RegionRead, Read(0, RegionIndex.Vga, 4)), Errno.EINVAL);
        AssertError(served.Client.Request(VfioUserCommand.RegionRead, Read(0, 1, 4)), Errno.EINVAL);   // BAR1: the upper half of BAR0
    }

    [Fact]
    public void Bar_writes_reach_the_dispatch_and_doorbell_writes_take_the_trap_path_posted_ones_unanswered()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        served.Client.Send(VfioUserCommand.RegionWrite, Write32(0x14, 0, 0x0046_0001), noReply: true);
        served.Client.Send(VfioUserCommand.RegionWrite, Write32(0x1008, 0, 5), noReply: true);       // SQ tail 1
        served.Client.Send(VfioUserCommand.RegionWrite, Write(0x2000, 0, [0x07, 0x00]), noReply: true); // kick, datamatch 7
        served.Client.Send(VfioUserCommand.RegionWrite, Write(0x2000, 0, [0x08, 0x00]), noReply: true); // no match: the device's
        served.Client.Send(VfioUserCommand.RegionWrite, Write32(0x9000, 0, 1), noReply: true);        // outside BAR0: no reply either
        // The next answered request is answered next: no reply was sent to any posted write.
        var reply = served.Client.Request(VfioUserCommand.RegionRead, Read(0x14, 0, 4));
        Assert.Equal(0x0046_0001u, BinaryPrimitives.ReadUInt32LittleEndian(reply.Payload.AsSpan(RegionAccess.HeaderSize)));

        Assert.Equal([(0x14ul, 4, 0x0046_0001ul), (0x2000ul, 2, 8ul)], served.Device.Writes);
        Assert.Equal(5u, served.Doorbells.Shadow.ReadUInt32(8));
        Assert.Equal(1ul, served.Doorbells.TakeSignals(0));
        Assert.Equal(1ul, served.Doorbells.TakeSignals(2));
        Assert.Equal(5, served.Server.Statistics.PostedWrites);
        Assert.Equal(3, served.Server.Statistics.DoorbellWrites);
        Assert.Equal(1, served.Server.Statistics.ErrorReplies);

        // An 8-byte read and a 12-byte read cut into naturally aligned pieces.
        reply = served.Client.Request(VfioUserCommand.RegionRead, Read(0x30, 0, 12));
        Assert.Equal(0xa5a5_0030ul, BinaryPrimitives.ReadUInt64LittleEndian(reply.Payload.AsSpan(RegionAccess.HeaderSize)));
        Assert.Equal(0xa5a5_0038u, BinaryPrimitives.ReadUInt32LittleEndian(reply.Payload.AsSpan(RegionAccess.HeaderSize + 8)));
    }

    [Fact]
    public void Write_multi_applies_its_writes_in_order_and_counts_them()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        var payload = new byte[8 + 2 * RegionWriteMulti.EntrySize];
        RegionWriteMulti.EncodeRequest(payload, [new RegionAccess(0x1008, 0, 4), new RegionAccess(0x20, 0, 8)], [9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        var reply = served.Client.Request(VfioUserCommand.RegionWriteMulti, payload);
        Assert.Equal(2ul, BinaryPrimitives.ReadUInt64LittleEndian(reply.Payload));
        Assert.Equal(9u, served.Doorbells.Shadow.ReadUInt32(8));
        Assert.Equal(0x0807_0605_0403_0201ul, served.Device.Registers[0x20]);
    }

    [Fact]
    public void Dma_maps_with_a_memfd_are_guest_memory_overlaps_and_mismatched_unmaps_are_refused()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        using var ram = MemoryMapping.CreateMemfd("test ram", 0x4000);
        ram.Span[0x1234] = 0x5a;
        int[] fd = [ram.Fd];
        Assert.False(served.Client.Request(VfioUserCommand.DmaMap, DmaMap(DmaMapFlags.Read | DmaMapFlags.Write, 0x1000, 0x10_0000, 0x3000), fd).Header.IsError);
        Assert.True(served.Server.GuestMemory.TryRead<byte>(0x10_0234, out byte seen));
        Assert.Equal(0x5a, seen);
        Assert.True(served.Server.GuestMemory.TryWrite<uint>(0x10_2ffc, 0xfeed_f00d));
        Assert.Equal(0xfeed_f00du, BinaryPrimitives.ReadUInt32LittleEndian(ram.Span[0x3ffc..]));
        Assert.False(served.Server.GuestMemory.Contains(0x10_2ffc, 8));   // past the map's end

        AssertError(served.Client.Request(VfioUserCommand.DmaMap, DmaMap(DmaMapFlags.Read | DmaMapFlags.Write, 0, 0x10_2000, 0x2000), fd), Errno.EEXIST);
        AssertError(served.Client.Request(VfioUserCommand.DmaMap, DmaMap(DmaMapFlags.Read | DmaMapFlags.Write, 0x2000, 0x20_0000, 0x3000), fd), Errno.EINVAL);   // past the memfd's end
        AssertError(served.Client.Request(VfioUserCommand.DmaMap, DmaMap(DmaMapFlags.Read | DmaMapFlags.Write, 0x800, 0x20_0000, 0x1000), fd), Errno.EINVAL);    // offset not page-aligned
        int eventFd = NewEventFd();
        try
        {
            AssertError(served.Client.Request(VfioUserCommand.DmaMap, DmaMap(DmaMapFlags.Read | DmaMapFlags.Write, 0, 0x20_0000, 0x1000), [eventFd]), Errno.EINVAL);
        }
        finally
        {
            close(eventFd);
        }
        // Without an fd: recorded (its range is taken) but not reachable.
        Assert.False(served.Client.Request(VfioUserCommand.DmaMap, DmaMap(DmaMapFlags.Read, 0, 0xc0000, 0x20000)).Header.IsError);
        Assert.False(served.Server.GuestMemory.Contains(0xc0000, 1));
        AssertError(served.Client.Request(VfioUserCommand.DmaMap, DmaMap(DmaMapFlags.Read, 0, 0xd0000, 0x1000)), Errno.EEXIST);
        Assert.Equal(2, served.Server.DmaMapCount);

        AssertError(served.Client.Request(VfioUserCommand.DmaUnmap, DmaUnmap(0, 0x10_0000, 0x1000)), Errno.ENOENT);
        var unmapped = served.Client.Request(VfioUserCommand.DmaUnmap, DmaUnmap(0, 0x10_0000, 0x3000));
        Assert.Equal(DmaUnmapRequest.WireSize, unmapped.Payload.Length);
        Assert.False(served.Server.GuestMemory.Contains(0x10_0000, 1));
        Assert.False(served.Client.Request(VfioUserCommand.DmaUnmap, DmaUnmap(DmaUnmapFlags.All, 0, 0)).Header.IsError);
        Assert.Equal(0, served.Server.DmaMapCount);
    }

    [Fact]
    public unsafe void Region_io_fds_give_an_ioeventfd_shadow_entry_per_value_doorbell_with_the_shadow_memfd()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        var small = new byte[RegionIoFds.HeaderSize];
        RegionIoFds.EncodeRequest(small, RegionIoFds.HeaderSize, 0);
        var sizeOnly = served.Client.Request(VfioUserCommand.DeviceGetRegionIoFds, small);
        Assert.Equal((uint)RegionIoFds.ReplySize(3), Payload.ReadU32(sizeOnly.Payload, 0));
        Assert.Equal(3u, Payload.ReadU32(sizeOnly.Payload, 12));
        Assert.Empty(sizeOnly.Fds);

        var request = new byte[RegionIoFds.HeaderSize];
        RegionIoFds.EncodeRequest(request, (uint)RegionIoFds.ReplySize(3), 0);
        var full = served.Client.Request(VfioUserCommand.DeviceGetRegionIoFds, request);
        using var fullFds = full.Fds;
        Assert.Equal(RegionIoFds.ReplySize(3), full.Payload.Length);
        Assert.Equal(4, fullFds.Count);   // the shadow memfd, then three eventfds
        Assert.Equal(0, RegionIoFds.DecodeReply(full.Payload, fullFds.Count, out _, out int count, out var entries));
        Assert.Equal(3, count);
        Assert.Equal(new RegionIoFdEntry(0x1008, 4, 1, IoFdType.IoEventFdShadow, 0, 0, 8, 0), entries[0]);
        Assert.Equal(new RegionIoFdEntry(0x100c, 4, 2, IoFdType.IoEventFdShadow, 0, 0, 12, 0), entries[1]);
        Assert.Equal(new RegionIoFdEntry(0x2000, 2, 3, IoFdType.IoEventFd, IoFdFlags.DataMatch, 0, 0, 7), entries[2]);

        // The fds are the doorbell stack's own: the shadow memfd shows trapped values, and a signal
        // on the eventfd (what KVM would do for an ioeventfd) fires the row.
        served.Client.Request(VfioUserCommand.RegionWrite, Write32(0x100c, 0, 42));
        using (var shadow = MemoryMapping.MapFd(new FileDescriptorHandle(FileDescriptors_Dup(fullFds[0].Fd)), 4096, "shadow"))
            Assert.Equal(42u, BinaryPrimitives.ReadUInt32LittleEndian(shadow.Span[12..]));
        Assert.Equal(1ul, served.Doorbells.TakeSignals(1));
        ulong one = 1;
        Assert.Equal(8, (int)write(fullFds[1].Fd, &one, 8));
        Assert.Equal(1ul, served.Doorbells.TakeSignals(0));

        // A region without doorbells has none; config space neither.
        var none = new byte[RegionIoFds.HeaderSize];
        RegionIoFds.EncodeRequest(none, 4096, RegionIndex.Config);
        Assert.Equal(0u, Payload.ReadU32(served.Client.Request(VfioUserCommand.DeviceGetRegionIoFds, none).Payload, 12));
    }

    private static int FileDescriptors_Dup(int fd) => dup(fd);

    [Fact]
    public void Msix_eventfds_are_assigned_raised_deassigned_and_disabled_as_vfio_does()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        int first = NewEventFd(), second = NewEventFd();
        try
        {
            // QEMU's "enable with no vectors": EVENTFD|TRIGGER, start 0, count 1, no fd.
            Assert.False(served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 1)).Header.IsError);
            Assert.True(served.Server.Interrupts.MsixMode);
            Assert.False(served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 1, 2), [first, second]).Header.IsError);
            served.Server.Interrupts.Raise(2);
            served.Server.Interrupts.Raise(2);
            served.Server.Interrupts.Raise(0);   // no eventfd: dropped
            Assert.Equal(2ul, ReadEventFd(second));
            Assert.Equal(0ul, ReadEventFd(first));
            Assert.Equal(1, served.Server.Interrupts.Dropped);

            // DATA_NONE|TRIGGER fires vectors from the client's side too (and DATA_BOOL where set).
            served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataBool | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 1, 2, [1, 0]));
            Assert.Equal(1ul, ReadEventFd(first));
            Assert.Equal(0ul, ReadEventFd(second));

            // Hostile: fd count not equal to count, a non-eventfd, vectors past the table, MASK on MSI-X.
            AssertError(served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 2), [first]), Errno.EINVAL);
            using var memfd = MemoryMapping.CreateMemfd("not an eventfd", 4096);
            AssertError(served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 1), [memfd.Fd]), Errno.EINVAL);
            AssertError(served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 3, 2), [first, second]), Errno.EINVAL);
            AssertError(served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataNone | IrqSetFlags.ActionMask, IrqIndex.Msix, 0, 1)), Errno.EINVAL);
            AssertError(served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msi, 0, 1), [first]), Errno.EINVAL);
            Assert.True(served.Server.Interrupts.HasMsixEventFd(2));   // a refused request changed nothing

            // De-assign vector 2 (no fds), then disable the index (count 0): back to INTx.
            served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 2, 1));
            Assert.False(served.Server.Interrupts.HasMsixEventFd(2));
            served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataNone | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 0));
            Assert.False(served.Server.Interrupts.MsixMode);
            Assert.False(served.Server.Interrupts.HasMsixEventFd(1));
        }
        finally
        {
            close(first);
            close(second);
        }
    }

    [Fact]
    public void Intx_is_automasked_a_raise_while_masked_is_held_until_unmask()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        int line = NewEventFd();
        try
        {
            served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Intx, 0, 1), [line]);
            served.Server.Interrupts.Raise(0);
            served.Server.Interrupts.Raise(0);
            Assert.Equal(1ul, ReadEventFd(line));
            Assert.Equal(1, served.Server.Interrupts.Held);
            served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataNone | IrqSetFlags.ActionUnmask, IrqIndex.Intx, 0, 1));
            Assert.Equal(1ul, ReadEventFd(line));
            served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataNone | IrqSetFlags.ActionUnmask, IrqIndex.Intx, 0, 1));
            Assert.Equal(0ul, ReadEventFd(line));
        }
        finally
        {
            close(line);
        }
    }

    [Fact]
    public void Device_reset_returns_config_space_and_the_msix_table_to_power_on_and_calls_the_function()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        served.Client.Request(VfioUserCommand.RegionWrite, Write(0x04, RegionIndex.Config, [0x06, 0x00]));
        served.Client.Request(VfioUserCommand.RegionWrite, Write32(0x0c, 4, 0));   // unmask MSI-X vector 0
        Assert.False(served.Msix.IsMasked(0));
        Assert.False(served.Client.Request(VfioUserCommand.DeviceReset, []).Header.IsError);
        Assert.Equal(0, served.Server.ConfigSpace.Command);
        Assert.True(served.Msix.IsMasked(0));
        Assert.Equal(1, served.Resets);
    }

    [Fact]
    public void Hostile_messages_get_error_replies_posted_ones_none_and_the_link_survives()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        int stray = NewEventFd();
        try
        {
            AssertError(served.Client.Request(VfioUserCommand.RegionRead, Read(0, 0, 4), [stray]), Errno.EINVAL);   // fds where none belong
            AssertError(served.Client.Request(VfioUserCommand.RegionRead, Read(ulong.MaxValue - 1, 0, 4)), Errno.EINVAL);
            AssertError(served.Client.Request(VfioUserCommand.RegionRead, Read(0x3ffe, 0, 4)), Errno.EINVAL);
            AssertError(served.Client.Request(VfioUserCommand.RegionRead, Read(0, 0, 2 << 20)), Errno.E2BIG);
            AssertError(served.Client.Request(VfioUserCommand.RegionWrite, Read(0, 0, 4)), Errno.EINVAL);          // count says 4, no data
            AssertError(served.Client.Request(VfioUserCommand.DmaRead, new byte[16]), Errno.EINVAL);
            AssertError(served.Client.Request((VfioUserCommand)14, []), Errno.EINVAL);
            AssertError(served.Client.Request(VfioUserCommand.DeviceFeature, new byte[16]), Errno.ENOTSUP);
            AssertError(served.Client.Request(VfioUserCommand.DeviceReset, [], [stray]), Errno.EINVAL);
            AssertError(served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataNone | IrqSetFlags.DataBool | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 1)), Errno.EINVAL);
            // Posted junk: no reply; an unsolicited reply: dropped.
            served.Client.Send(VfioUserCommand.DmaMap, new byte[3], noReply: true);
            served.Client.SendRaw(MessageBytes(new MessageHeader(77, VfioUserCommand.RegionRead, 16, MessageFlags.Reply, 0)));
            // Too large: drained and refused, the stream stays framed.
            var huge = new byte[(2 << 20) + 16];
            new MessageHeader(78, VfioUserCommand.RegionWrite, (uint)huge.Length, MessageFlags.Command, 0).Write(huge);
            served.Client.SendRaw(huge);
            var refused = served.Client.Receive();
            Assert.Equal((ushort)78, refused.Header.MessageId);
            Assert.Equal((uint)Errno.E2BIG, refused.Header.Error);
            var still = served.Client.Request(VfioUserCommand.RegionRead, Read(0x14, 0, 4));
            Assert.False(still.Header.IsError);
            Assert.Equal(0, served.Server.Statistics.DeviceFailures);
        }
        finally
        {
            close(stray);
        }
    }

    [Fact]
    public async Task A_stream_that_cannot_be_framed_ends_the_link_without_an_exception()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        served.Client.SendRaw(MessageBytes(new MessageHeader(9, VfioUserCommand.RegionRead, 8, MessageFlags.Command, 0)));
        await served.Running.WaitAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(served.Server.EndReason);
    }

    private static byte[] MessageBytes(MessageHeader header)
    {
        var bytes = new byte[Math.Max(MessageHeader.Size, (int)header.MessageSize)];
        header.Write(bytes);
        return bytes;
    }
}
