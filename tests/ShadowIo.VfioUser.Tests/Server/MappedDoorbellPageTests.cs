using Xunit;
using System.Buffers.Binary;
using ShadowIo.VfioUser.Protocol;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Server;

/// <summary>
/// A mappable doorbell set: GET_REGION_INFO for BAR0 carries MMAP, the SPARSE_MMAP capability
/// naming only the doorbell page and the shadow memfd, and a store into the client's mapping of
/// that page is what the device reads, while every other BAR0 offset still traps.
/// </summary>
public sealed class MappedDoorbellPageTests
{
    private static TestClient.Reply RegionInfo0(ServedFunction served, uint argsz)
    {
        var request = new byte[RegionInfo.WireSize];
        RegionInfo.EncodeRequest(request, argsz, 0);
        return served.Client.Request(VfioUserCommand.DeviceGetRegionInfo, request);
    }

    [Fact]
    public unsafe void Region_info_offers_just_the_doorbell_page_and_a_store_into_it_is_what_the_device_reads()
    {
        using var served = new ServedFunction(mappableDoorbells: true);
        served.Negotiate();

        // QEMU asks with 32 bytes first: the answer says how much it needs, MMAP set, no capability (so no CAPS), no fd.
        var small = RegionInfo0(served, RegionInfo.WireSize);
        Assert.Empty(small.Fds);
        Assert.Equal(0, RegionInfo.DecodeReply(small.Payload, 0, out var first, out _));
        Assert.Equal((uint)RegionInfo.ReplySize(1), first.Argsz);
        Assert.Equal(RegionFlags.Read | RegionFlags.Write | RegionFlags.Mmap, first.Flags);

        var full = RegionInfo0(served, first.Argsz);
        using var fds = full.Fds;
        Assert.Single(fds);
        Assert.Equal(0, RegionInfo.DecodeReply(full.Payload, fds.Count, out var info, out var areas));
        Assert.Equal(0x4000ul, info.Size);
        Assert.Equal(0ul, info.Offset);
        Assert.Equal(1, areas.Count);
        Assert.Equal(new SparseMmapArea(0x1000, 0x1000), areas[0]);

        // Map it as hw/vfio/region.c does: fd_offset + area offset, the area's size.
        void* page = mmap(null, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0].Fd, (off_t)(long)(info.Offset + areas[0].Offset));
        Assert.True(page != MAP_FAILED, $"mmap failed: errno {Native.Errno.Current}");
        try
        {
            var guest = new Span<byte>(page, 0x1000);
            BinaryPrimitives.WriteUInt32LittleEndian(guest[0x008..], 7);     // SQ tail 1 at BAR0 0x1008
            BinaryPrimitives.WriteUInt32LittleEndian(guest[0x00c..], 3);     // CQ head 1 at BAR0 0x100c
            BinaryPrimitives.WriteUInt32LittleEndian(guest[0x800..], 0xdead); // no doorbell there: a reserved offset
            Assert.Equal(7u, served.Doorbells.Shadow.ReadUInt32(8));
            Assert.Equal(3u, served.Doorbells.Shadow.ReadUInt32(12));
            // No exit, no message, no eventfd: the device learns of it only by polling.
            Assert.Equal(0ul, served.Doorbells.TakeSignals(0));
            Assert.Equal(0, served.Server.Statistics.DoorbellWrites);
            // The stray store stays in its own bytes: no doorbell slot changed.
            Assert.Equal(7u, served.Doorbells.Shadow.ReadUInt32(8));
        }
        finally
        {
            munmap(page, 0x1000);
        }

        // Registers outside the page still trap to the device's dispatch.
        served.Client.Request(VfioUserCommand.RegionWrite, VfioUserServerTests.Write32(0x14, 0, 1));
        Assert.Equal([(0x14ul, 4, 1ul)], served.Device.Writes);
    }

    [Fact]
    public void Without_a_mappable_set_no_region_is_mmappable()
    {
        using var served = new ServedFunction();
        served.Negotiate();
        var reply = RegionInfo0(served, 4096);
        Assert.Empty(reply.Fds);
        Assert.Equal(0, RegionInfo.DecodeReply(reply.Payload, 0, out var info, out var areas));
        Assert.Equal(RegionFlags.Read | RegionFlags.Write, info.Flags);
        Assert.Equal(0, areas.Count);
    }

    [Fact]
    public void A_table_whose_doorbells_are_not_a_page_of_their_own_is_refused()
    {
        // The notify doorbell at 0x2000 would sit in a page starting there.
        var notifyInPage = new DoorbellTable("bad", 0x4000, 4,
        [
            new DoorbellEntry("tail", 0, 0x2000, 4, DoorbellKind.Value, false, 0, 0),
            new DoorbellEntry("kick", 0, 0x2010, 2, DoorbellKind.Notify, true, 1, -1),
        ]);
        Assert.Throws<ArgumentException>(() => DoorbellSet.CreateMappable(notifyInPage));
        var unaligned = new DoorbellTable("bad", 0x4000, 4, [new DoorbellEntry("tail", 0, 0x1804, 4, DoorbellKind.Value, false, 0, 0)]);
        Assert.Throws<ArgumentException>(() => DoorbellSet.CreateMappable(unaligned));
    }
}
