using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Protocol;

public sealed class RegionIoFdsTests
{
    /// <summary>NVMe's SQ 1 tail doorbell as the seed serves it: an IOEVENTFD_SHADOW (fd 0, shadow memfd fd 1 at offset 8), and CQ 1's head as a plain IOEVENTFD.</summary>
    private static readonly RegionIoFdEntry[] Doorbells =
    [
        new(0x1008, 4, 0, IoFdType.IoEventFdShadow, 0, 1, 8, 0),
        new(0x100c, 4, 2, IoFdType.IoEventFd, IoFdFlags.DataMatch, 0, 0, 0x1234),
    ];

    [Fact]
    public void A_request_has_flags_and_count_zero()
    {
        var bytes = new byte[RegionIoFds.HeaderSize];
        RegionIoFds.EncodeRequest(bytes, 256, 0);
        Assert.Equal(0, RegionIoFds.DecodeRequest(bytes, 0, out uint argsz, out uint index));
        Assert.Equal((256u, 0u), (argsz, index));

        Assert.Equal(EINVAL, RegionIoFds.DecodeRequest(new Payload().U32(16).U32(1).U32(0).U32(0), 0, out _, out _));
        Assert.Equal(EINVAL, RegionIoFds.DecodeRequest(new Payload().U32(16).U32(0).U32(0).U32(1), 0, out _, out _));
        Assert.Equal(EINVAL, RegionIoFds.DecodeRequest(new Payload().U32(16).U32(0).U32(9).U32(0), 0, out _, out _));
        Assert.Equal(EINVAL, RegionIoFds.DecodeRequest(new Payload().U32(15).U32(0).U32(0).U32(0), 0, out _, out _));
        Assert.Equal(EINVAL, RegionIoFds.DecodeRequest(bytes, 1, out _, out _));
    }

    [Fact]
    public void Entries_use_libvfio_users_48_byte_layout_with_the_shadow_fields_and_round_trip()
    {
        var bytes = new byte[256];
        var (length, withEntries) = RegionIoFds.EncodeReply(bytes, 256, 0, Doorbells);
        Assert.True(withEntries);
        Assert.Equal(16 + 2 * 48, length);
        // shadow_mem_fd_index @28, shadow_offset @32, datamatch @40 of the first entry (payload offset 16).
        Assert.Equal(2u, Payload.ReadU32(bytes, 16 + 20));
        Assert.Equal(1u, Payload.ReadU32(bytes, 16 + 28));
        Assert.Equal(8ul, Payload.ReadU64(bytes, 16 + 32));
        Assert.Equal(0x1234ul, Payload.ReadU64(bytes, 16 + 48 + 40));

        Assert.Equal(0, RegionIoFds.DecodeReply(bytes.AsSpan(0, length), fdCount: 3, out uint index, out int count, out var entries));
        Assert.Equal((0u, 2, 2), (index, count, entries.Count));
        Assert.Equal(Doorbells[0], entries[0]);
        Assert.Equal(Doorbells[1], entries[1]);
    }

    [Fact]
    public void Too_small_an_argsz_gets_the_size_and_count_only_and_no_fds()
    {
        var bytes = new byte[256];
        var (length, withEntries) = RegionIoFds.EncodeReply(bytes, 16, 0, Doorbells);
        Assert.False(withEntries);
        Assert.Equal(16, length);
        Assert.Equal(0, RegionIoFds.DecodeReply(bytes.AsSpan(0, length), 0, out _, out int count, out var entries));
        Assert.Equal((2, 0), (count, entries.Count));
        Assert.Equal(112u, Payload.ReadU32(bytes, 0));
        // fds on a reply without entries cannot belong to anything.
        Assert.Equal(EINVAL, RegionIoFds.DecodeReply(bytes.AsSpan(0, length), 1, out _, out _, out _));
    }

    private static Payload Entry(ulong offset, ulong size, uint fd, uint type, uint flags, uint shadowFd, ulong shadowOffset, ulong datamatch) =>
        new Payload().U32(16 + 48).U32(0).U32(0).U32(1).U64(offset).U64(size).U32(fd).U32(type).U32(flags).U32(shadowFd).U64(shadowOffset).U64(datamatch);

    public static TheoryData<string, byte[], int> MalformedReplies => new()
    {
        { "short payload", new byte[15], 0 },
        { "nonzero flags", new Payload().U32(16).U32(1).U32(0).U32(0), 0 },
        { "argsz disagrees with count", new Payload().U32(64).U32(0).U32(0).U32(2), 0 },
        { "count past the limit", new Payload().U32(unchecked((uint)RegionIoFds.ReplySize(1025))).U32(0).U32(0).U32(1025), 0 },
        { "entries cut short", Entry(0, 4, 0, 0, 0, 0, 0, 0).ToArray()[..40], 1 },
        { "fd index past the fds", Entry(0, 4, 1, 0, 0, 0, 0, 0), 1 },
        { "unknown type", Entry(0, 4, 0, 3, 0, 0, 0, 0), 1 },
        { "unknown flag", Entry(0, 4, 0, 0, 2, 0, 0, 0), 1 },
        { "ioeventfd width 3", Entry(0, 3, 0, 0, 0, 0, 0, 0), 1 },
        { "range wraps", Entry(ulong.MaxValue - 1, 4, 0, 0, 0, 0, 0, 0), 1 },
        { "shadow fd index past the fds", Entry(0, 4, 0, 2, 0, 1, 0, 0), 1 },
        { "shadow fields on a plain ioeventfd", Entry(0, 4, 0, 0, 0, 0, 8, 0), 1 },
        { "DATAMATCH on an ioregionfd", Entry(0, 0x1000, 0, 1, 1, 0, 0, 0), 1 },
    };

    [Theory]
    [MemberData(nameof(MalformedReplies))]
    public void Malformed_replies_are_EINVAL(string why, byte[] payload, int fds)
    {
        Assert.True(EINVAL == RegionIoFds.DecodeReply(payload, fds, out _, out _, out var entries), why);
        Assert.Equal(0, entries.Count);
    }
}
