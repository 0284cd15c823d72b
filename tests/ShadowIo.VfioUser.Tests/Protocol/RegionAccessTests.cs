using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Protocol;

/// <summary>REGION_READ, REGION_WRITE and REGION_WRITE_MULTI.</summary>
public sealed class RegionAccessTests
{
    private static readonly ProtocolLimits Limits = new(4096, 8);

    [Fact]
    public void A_config_read_and_its_reply_round_trip()
    {
        var read = new RegionAccess(0, RegionIndex.Config, 256);
        var bytes = new byte[16 + 256];
        Assert.Equal(16, read.Encode(bytes));
        Assert.Equal(0, RegionAccess.DecodeReadRequest(bytes.AsSpan(0, 16), 0, Limits, out var decoded));
        Assert.Equal(read, decoded);

        var config = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Assert.Equal(16 + 256, read.Encode(bytes, config));
        Assert.Equal(0, RegionAccess.DecodeReadReply(bytes, read, out var data));
        Assert.Equal(config, data.ToArray());
        // A reply whose count is not the request's, or whose data is short, is refused.
        Assert.Equal(EINVAL, RegionAccess.DecodeReadReply(bytes.AsSpan(0, 200), read, out _));
        Assert.Equal(EINVAL, RegionAccess.DecodeReadReply(bytes, read with { Count = 4 }, out _));
    }

    [Fact]
    public void A_doorbell_write_carries_its_data_in_place_and_its_reply_is_the_echo()
    {
        var write = new RegionAccess(0x1008, RegionIndex.Bar0, 4);
        var bytes = new byte[20];
        Assert.Equal(20, write.Encode(bytes, [7, 0, 0, 0]));
        Assert.Equal(0, RegionAccess.DecodeWriteRequest(bytes, 0, Limits, out var decoded, out var data));
        Assert.Equal(write, decoded);
        Assert.Equal([7, 0, 0, 0], data.ToArray());

        Assert.Equal(0, RegionAccess.DecodeWriteReply(bytes.AsSpan(0, 16), write));
        Assert.Equal(EINVAL, RegionAccess.DecodeWriteReply(bytes, write));
    }

    private static Payload Access(ulong offset, uint region, uint count) => new Payload().U64(offset).U32(region).U32(count);

    public static TheoryData<string, byte[], int, int> MalformedReads => new()
    {
        { "short payload", new byte[15], 0, EINVAL },
        { "an fd", Access(0, 0, 4), 1, EINVAL },
        { "region past VGA", Access(0, 9, 4), 0, EINVAL },
        { "count 0", Access(0, 0, 0), 0, EINVAL },
        { "range wraps", Access(ulong.MaxValue - 1, 0, 4), 0, EINVAL },
        { "count past max_data_xfer_size", Access(0, 0, 4097), 0, E2BIG },
    };

    [Theory]
    [MemberData(nameof(MalformedReads))]
    public void Malformed_reads_get_their_errno(string why, byte[] payload, int fds, int errno)
    {
        Assert.True(errno == RegionAccess.DecodeReadRequest(payload, fds, Limits, out var access), why);
        Assert.Equal(default, access);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void A_write_whose_data_is_not_count_bytes_is_EINVAL(int dataBytes)
    {
        byte[] payload = Access(0, 0, 4).Bytes(new byte[dataBytes]);
        Assert.Equal(EINVAL, RegionAccess.DecodeWriteRequest(payload, 0, Limits, out var access, out var data));
        Assert.Equal(default, access);
        Assert.True(data.IsEmpty);
    }

    [Fact]
    public void Write_multi_round_trips_entries_of_up_to_8_bytes()
    {
        RegionAccess[] writes = [new(0x1000, 0, 4), new(0x1004, 0, 4), new(0x20, 0, 8)];
        byte[] data = [1, 0, 0, 0, 2, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        var bytes = new byte[8 + 3 * 24];
        Assert.Equal(80, RegionWriteMulti.EncodeRequest(bytes, writes, data));
        Assert.Equal(0, RegionWriteMulti.DecodeRequest(bytes, 0, out var decoded));
        Assert.Equal(3, decoded.Count);
        for (int i = 0; i < 3; i++)
            Assert.Equal(writes[i], decoded[i].Access);
        Assert.Equal(data[8..], decoded[2].Data.ToArray());

        var reply = new byte[8];
        Assert.Equal(8, RegionWriteMulti.EncodeReply(reply, 3));
        Assert.Equal(0, RegionWriteMulti.DecodeReply(reply, 3, out ulong completed));
        Assert.Equal(3ul, completed);
        Assert.Equal(EINVAL, RegionWriteMulti.DecodeReply(reply, 2, out _));
    }

    private static Payload Multi(ulong count) => new Payload().U64(count);

    public static TheoryData<string, byte[], int> MalformedMulti => new()
    {
        { "shorter than wr_cnt", new byte[7], 0 },
        { "an fd", Multi(1).Bytes(Access(0, 0, 4)).Bytes(new byte[8]), 1 },
        { "wr_cnt 0", Multi(0), 0 },
        { "wr_cnt past 200", Multi(201).Bytes(new byte[201 * 24]), 0 },
        { "wr_cnt huge", Multi(ulong.MaxValue).Bytes(new byte[24]), 0 },
        { "fewer entries than wr_cnt", Multi(2).Bytes(Access(0, 0, 4)).Bytes(new byte[8]), 0 },
        { "an entry of 9 bytes", Multi(1).Bytes(Access(0, 0, 9)).Bytes(new byte[8]), 0 },
        { "an entry of 0 bytes", Multi(1).Bytes(Access(0, 0, 0)).Bytes(new byte[8]), 0 },
        { "an entry past VGA", Multi(1).Bytes(Access(0, 9, 4)).Bytes(new byte[8]), 0 },
        { "an entry that wraps", Multi(1).Bytes(Access(ulong.MaxValue, 0, 4)).Bytes(new byte[8]), 0 },
    };

    [Theory]
    [MemberData(nameof(MalformedMulti))]
    public void Malformed_write_multi_is_EINVAL(string why, byte[] payload, int fds)
    {
        Assert.True(EINVAL == RegionWriteMulti.DecodeRequest(payload, fds, out var writes), why);
        Assert.Equal(0, writes.Count);
    }
}
