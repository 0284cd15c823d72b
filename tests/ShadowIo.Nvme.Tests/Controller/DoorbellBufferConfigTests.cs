using ShadowIo.Testing;
using ShadowIo.Devices.Nvme;
using Xunit;
using ShadowIo.Fuzz.Nvme;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>Doorbell Buffer Config: validation, guest-shadow doorbells, EventIdx and Linux's ring rule.</summary>
public sealed class DoorbellBufferConfigTests : IDisposable
{
    private const ulong Data = NvmeTestHost.DataArea;
    private const ulong ShadowPage = NvmeTestHost.RamBase + 0x30_0000;
    private const ulong EventIdxPage = ShadowPage + 0x1000;
    private readonly NvmeTestHost _host = new();
    private readonly List<DoorbellBufferPages> _configured = [];
    private int _released;

    public DoorbellBufferConfigTests()
    {
        _host.Controller.DoorbellBufferConfigured = _configured.Add;
        _host.Controller.DoorbellBufferReleased = () => _released++;
        _host.Enable();
    }

    public void Dispose() => _host.Dispose();

    [Theory]
    [InlineData(ShadowPage + 8, EventIdxPage)]        // unaligned shadow
    [InlineData(ShadowPage, EventIdxPage + 0x800)]    // unaligned EventIdx
    [InlineData(ShadowPage, ShadowPage)]              // same page
    [InlineData(0x1000UL, EventIdxPage)]              // outside RAM
    [InlineData(ShadowPage, NvmeTestHost.RamBase + NvmeTestHost.RamSize)] // just past RAM
    [InlineData(ulong.MaxValue & ~0xFFFUL, EventIdxPage)]
    public void Bad_pages_are_invalid_field_and_change_nothing(ulong shadow, ulong eventIdx)
    {
        Assert.Equal(NvmeStatus.InvalidField, _host.AdminCommand(Commands.DoorbellBufferConfig(shadow, eventIdx)).Status);
        Assert.False(_host.Controller.IsDoorbellBufferActive);
        Assert.Empty(_configured);
    }

    [Fact]
    public void Valid_pages_are_handed_to_the_host_and_admin_values_are_written_back()
    {
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.DoorbellBufferConfig(ShadowPage, EventIdxPage)).Status);
        var pages = Assert.Single(_configured);
        Assert.Equal(ShadowPage, pages.ShadowAddress);
        Assert.Equal(EventIdxPage, pages.EventIdxAddress);
        Assert.Equal(4096, pages.Shadow.Length);
        Assert.True(_host.Controller.IsDoorbellBufferActive);
        // The admin queue keeps MMIO doorbells; their values also appear in the shadow page.
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.Identify(IdentifyCns.Controller, 0, Data)).Status);
        Assert.Equal((uint)_host.Admin.SqTail, pages.Shadow.ReadUInt32(0));
        Assert.Equal((uint)_host.Admin.CqHead, pages.Shadow.ReadUInt32(4));
        // A reset ends guest-shadow mode and tells the host.
        _host.Disable();
        Assert.False(_host.Controller.IsDoorbellBufferActive);
        Assert.Equal(1, _released);
    }

    /// <summary>Linux nvme-pci's nvme_dbbuf_update_and_check_event: write shadow, then ring only if needed.</summary>
    private bool LinuxRing(HostQueue q, ShadowRegion shadow, ShadowRegion eventIdx, int old)
    {
        int offset = 8 * q.Id;
        ushort value = (ushort)q.SqTail;
        shadow.WriteUInt32(offset, value);
        Interlocked.MemoryBarrier();
        ushort ei = (ushort)eventIdx.ReadUInt32(offset);
        bool ring = (ushort)(value - ei - 1) < (ushort)(value - old);
        if (ring) _host.Write32(0x1000 + (ulong)offset, value);
        return ring;
    }

    [Fact]
    public void Io_doorbells_come_from_the_shadow_page_and_event_idx_tracks_the_tail()
    {
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.DoorbellBufferConfig(ShadowPage, EventIdxPage)).Status);
        var pages = _configured[0];
        var io = _host.CreateIoQueuePair(1, entries: 64);

        // First command: EventIdx is 0 and old tail 0, so Linux's rule says ring.
        int old = io.SqTail;
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        Assert.True(LinuxRing(io, pages.Shadow, pages.EventIdx, old));
        Assert.Single(_host.ReapAll(io));
        Assert.Equal(1u, pages.EventIdx.ReadUInt32(8)); // EventIdx = tail processed

        // The MMIO value is only a kick: the shadow is what counts.
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        pages.Shadow.WriteUInt32(8, (uint)io.SqTail);
        _host.Write32(0x1008, 0);
        Assert.Single(_host.ReapAll(io));

        // Shadow CQ head frees space without a CQ doorbell.
        pages.Shadow.WriteUInt32(12, (uint)io.CqHead);
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.Identify(IdentifyCns.Controller, 0, Data)).Status);
    }

    /// <summary>
    /// No guest runs here: the test plays a driver that follows Linux's nvme_dbbuf_need_event rule
    /// (<see cref="LinuxRing"/>) against the controller's EventIdx page, in process.
    /// </summary>
    [Fact]
    public void A_polling_controller_keeps_event_idx_so_that_linuxs_ring_rule_rings_at_most_once_per_queue_wrap()
    {
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.DoorbellBufferConfig(ShadowPage, EventIdxPage)).Status);
        var pages = _configured[0];
        var io = _host.CreateIoQueuePair(1, entries: 256);
        _host.Controller.IsPolling = true;

        int rings = 0, completed = 0;
        for (int i = 0; i < 1000; i++)
        {
            int old = io.SqTail;
            _host.Submit(io, Commands.Io(IoOpcode.Read, (ulong)(i % 64), 1, Data));
            if (LinuxRing(io, pages.Shadow, pages.EventIdx, old)) rings++;
            _host.Controller.Poll();
            completed += _host.ReapAll(io).Count;
            pages.Shadow.WriteUInt32(12, (uint)io.CqHead); // Linux updates the CQ head shadow too
        }
        Assert.Equal(1000, completed);
        // Only the first submission rings (EventIdx starts at 0) and each queue wrap (Linux's
        // u16 arithmetic over a tail that wraps at the queue size).
        Assert.True(rings <= 1 + 1000 / 256, $"{rings} rings");
    }

    [Fact]
    public void Event_driven_controller_makes_a_batching_driver_following_linuxs_rule_ring_once_per_batch()
    {
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.DoorbellBufferConfig(ShadowPage, EventIdxPage)).Status);
        var pages = _configured[0];
        var io = _host.CreateIoQueuePair(1, entries: 1024);
        int rings = 0;
        for (int batch = 0; batch < 10; batch++)
        {
            // The guest queues 32 commands, updating the shadow for each: while the controller
            // has not caught up (EventIdx behind), only the first of the batch rings.
            for (int i = 0; i < 32; i++)
            {
                int old = io.SqTail;
                _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
                if (LinuxRingWithoutProcessing(io, pages, old)) rings++;
            }
            _host.Controller.ProcessDoorbell(NvmeRegisters.DoorbellIndex.SqTail + 1);
            Assert.Equal(32, _host.ReapAll(io).Count);
            pages.Shadow.WriteUInt32(12, (uint)io.CqHead);
        }
        Assert.Equal(10, rings);
    }

    /// <summary>Linux's rule, with the ring recorded rather than delivered (the controller is "busy").</summary>
    private static bool LinuxRingWithoutProcessing(HostQueue q, DoorbellBufferPages pages, int old)
    {
        ushort value = (ushort)q.SqTail;
        pages.Shadow.WriteUInt32(8 * q.Id, value);
        ushort ei = (ushort)pages.EventIdx.ReadUInt32(8 * q.Id);
        return (ushort)(value - ei - 1) < (ushort)(value - old);
    }

    [Fact]
    public void Work_added_to_the_shadow_while_processing_is_seen_by_the_reread()
    {
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.DoorbellBufferConfig(ShadowPage, EventIdxPage)).Status);
        var pages = _configured[0];
        _host.Ram.At(NvmeTestHost.IoCq(1), 16 * 16).Clear();
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.CreateCq(1, 16, NvmeTestHost.IoCq(1), interrupts: true, vector: 1)).Status);
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.CreateSq(1, 16, NvmeTestHost.IoSq(1), 1)).Status);
        var io = new HostQueue(1, NvmeTestHost.IoSq(1), 16, NvmeTestHost.IoCq(1), 16);
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        // The race: the guest publishes entry 2 after the controller read tail 1, sees the old
        // EventIdx and does not ring. The re-read after writing EventIdx must find it.
        pages.Shadow.WriteUInt32(8, 1);
        // The guest's store lands while the controller executes the first command.
        bool added = false;
        _host.Controller.CommandFetched = (int _, int _, in SubmissionEntry _) =>
        {
            if (added) return;
            added = true;
            pages.Shadow.WriteUInt32(8, 2);
        };
        _host.Controller.ProcessDoorbell(NvmeRegisters.DoorbellIndex.SqTail + 1);
        Assert.Equal(2, _host.ReapAll(io).Count);
        Assert.True(_host.Controller.Counters.ShadowRereadHits >= 1);
        Assert.Equal(2u, pages.EventIdx.ReadUInt32(8));
    }

    [Fact]
    public void When_polling_stops_event_idx_again_asks_the_guest_to_ring()
    {
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.DoorbellBufferConfig(ShadowPage, EventIdxPage)).Status);
        var pages = _configured[0];
        var io = _host.CreateIoQueuePair(1, entries: 64);
        _host.Controller.IsPolling = true;
        int old = io.SqTail;
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        LinuxRing(io, pages.Shadow, pages.EventIdx, old);
        _host.Controller.Poll();
        Assert.Single(_host.ReapAll(io));
        Assert.Equal((uint)(io.SqTail - 1), pages.EventIdx.ReadUInt32(8));

        _host.Controller.IsPolling = false;
        Assert.Equal((uint)io.SqTail, pages.EventIdx.ReadUInt32(8));
        old = io.SqTail;
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        Assert.True(LinuxRing(io, pages.Shadow, pages.EventIdx, old)); // the guest rings again
        Assert.Single(_host.ReapAll(io));
    }

    [Fact]
    public void A_memory_map_change_never_leaves_the_controller_with_stale_shadow_pages()
    {
        // The dbbuf pages live in a second RAM region that the VMM later moves and then removes.
        const ulong SecondBase = 0x100_0000;
        using var first = new GuestRam(SecondBase, 0x1_0000);
        using var moved = new GuestRam(SecondBase, 0x1_0000);
        var main = _host.Ram.Memory.Regions[0];
        _host.Ram.Memory.AddRegion(SecondBase, 0x1_0000, first.Memory.Regions[0].HostAddress);
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.DoorbellBufferConfig(SecondBase, SecondBase + 0x1000)).Status);
        var io = _host.CreateIoQueuePair(1, entries: 16);
        Assert.Equal(first.Memory.Regions[0].HostAddress, _configured[^1].Shadow.Address);

        // Moved: same guest address, new host mapping. The controller follows and tells the host.
        _host.Ram.Memory.SetRegions([main, moved.Memory.Regions[0] with { GuestPhysicalAddress = SecondBase }]);
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(moved.At(SecondBase + 8, 4), (uint)io.SqTail);
        _host.Write32(0x1008, (uint)io.SqTail);
        Assert.Single(_host.ReapAll(io));
        Assert.Equal(moved.Memory.Regions[0].HostAddress, _configured[^1].Shadow.Address);
        Assert.Equal(1, _released);

        // Removed: guest-shadow mode ends; doorbells fall back to MMIO values.
        _host.Ram.Memory.SetRegions([main]);
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        _host.Write32(0x1008, (uint)io.SqTail);
        Assert.False(_host.Controller.IsDoorbellBufferActive);
        Assert.Equal(2, _released);
        Assert.Single(_host.ReapAll(io));
        Assert.Equal(0, _host.Controller.Counters.InternalErrors);
    }
}
