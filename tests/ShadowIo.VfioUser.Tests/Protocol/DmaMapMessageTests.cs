using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Protocol;

public sealed class DmaMapMessageTests
{
    private static byte[] Map(uint argsz, uint flags, ulong offset, ulong address, ulong size) =>
        new Payload().U32(argsz).U32(flags).U64(offset).U64(address).U64(size);

    [Fact]
    public void A_map_round_trips_with_its_fd_and_without()
    {
        var map = new DmaMapRequest(DmaMapFlags.Read | DmaMapFlags.Write, 0x1000, 0x10_0000, 0x7ff0_0000);
        var bytes = new byte[DmaMapRequest.WireSize];
        Assert.Equal(32, map.Encode(bytes));
        Assert.Equal(Map(32, 3, 0x1000, 0x10_0000, 0x7ff0_0000), bytes);

        Assert.Equal(0, DmaMapRequest.Decode(bytes, fdCount: 1, out var decoded));
        Assert.Equal(map, decoded);
        // QEMU maps its BIOS ranges READ only and without an fd.
        Assert.Equal(0, DmaMapRequest.Decode(Map(32, 1, 0, 0xfffc_0000, 0x4_0000), fdCount: 0, out decoded));
        Assert.Equal(DmaMapFlags.Read, decoded.Flags);
    }

    [Fact]
    public void Without_an_fd_the_offset_is_meaningless_and_may_be_anything()
    {
        Assert.Equal(0, DmaMapRequest.Decode(Map(32, 1, ulong.MaxValue, 0, 0x1000), fdCount: 0, out _));
        Assert.Equal(EINVAL, DmaMapRequest.Decode(Map(32, 1, ulong.MaxValue, 0, 0x1000), fdCount: 1, out _));
    }

    public static TheoryData<string, byte[], int> MalformedMaps => new()
    {
        { "short payload", new byte[31], 0 },
        { "argsz below 32", Map(31, 3, 0, 0, 0x1000), 0 },
        { "unknown flag", Map(32, 4 | 1, 0, 0, 0x1000), 0 },
        { "neither READ nor WRITE", Map(32, 0, 0, 0, 0x1000), 0 },
        { "two fds", Map(32, 3, 0, 0, 0x1000), 2 },
        { "empty range", Map(32, 3, 0, 0x1000, 0), 0 },
        { "address range wraps", Map(32, 3, 0, ulong.MaxValue - 0xfff, 0x1001), 0 },
        { "fd range wraps", Map(32, 3, ulong.MaxValue - 0xfff, 0, 0x1001), 1 },
    };

    [Theory]
    [MemberData(nameof(MalformedMaps))]
    public void Malformed_maps_are_EINVAL(string why, byte[] payload, int fds)
    {
        Assert.True(EINVAL == DmaMapRequest.Decode(payload, fds, out var map), why);
        Assert.Equal(default, map);
    }

    [Fact]
    public void An_unmap_round_trips_and_ALL_needs_an_empty_range()
    {
        var unmap = new DmaUnmapRequest(0, 0xc0000, 0x20000);
        var bytes = new byte[DmaUnmapRequest.WireSize];
        Assert.Equal(24, unmap.Encode(bytes));
        Assert.Equal(0, DmaUnmapRequest.Decode(bytes, 0, out var decoded));
        Assert.Equal(unmap, decoded);

        byte[] all = new Payload().U32(24).U32(2).U64(0).U64(0);
        Assert.Equal(0, DmaUnmapRequest.Decode(all, 0, out decoded));
        Assert.Equal(DmaUnmapFlags.All, decoded.Flags);
    }

    public static TheoryData<string, byte[], int, int> MalformedUnmaps => new()
    {
        { "short payload", new byte[23], 0, EINVAL },
        { "argsz below 24", new Payload().U32(23).U32(0).U64(0).U64(0x1000), 0, EINVAL },
        { "an fd", new Payload().U32(24).U32(0).U64(0).U64(0x1000), 1, EINVAL },
        { "unknown flag", new Payload().U32(24).U32(4).U64(0).U64(0x1000), 0, EINVAL },
        { "ALL with a range", new Payload().U32(24).U32(2).U64(0x1000).U64(0x1000), 0, EINVAL },
        { "empty range", new Payload().U32(24).U32(0).U64(0x1000).U64(0), 0, EINVAL },
        { "range wraps", new Payload().U32(24).U32(0).U64(ulong.MaxValue).U64(2), 0, EINVAL },
        { "dirty bitmap (gone from the protocol)", new Payload().U32(24).U32(1).U64(0).U64(0x1000), 0, ENOTSUP },
    };

    [Theory]
    [MemberData(nameof(MalformedUnmaps))]
    public void Malformed_unmaps_get_their_errno(string why, byte[] payload, int fds, int errno)
    {
        Assert.True(errno == DmaUnmapRequest.Decode(payload, fds, out var unmap), why);
        Assert.Equal(default, unmap);
    }
}
