using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Protocol;

/// <summary>DMA_READ/DMA_WRITE in the spec's layout and in the one QEMU's client speaks.</summary>
public sealed class DmaAccessTests
{
    private static readonly ProtocolLimits Limits = new(4096, 8);

    [Fact]
    public void QEMUs_layout_has_a_32_bit_count_data_at_message_offset_28_and_counts_the_pad_bytes()
    {
        var read = new DmaAccess(0x12_3000, 8);
        var request = new byte[64];
        int length = read.EncodeRequest(request, DmaMessageLayout.Qemu);
        // msg_size 32 = sizeof(VFIOUserDMARW): QEMU refuses anything shorter.
        Assert.Equal(16, length);
        Assert.Equal(0x12_3000ul, Payload.ReadU64(request, 0));
        Assert.Equal(8u, Payload.ReadU32(request, 8));

        // QEMU's reply: msg_size 32 + count, the data at message offset 28 (payload offset 12).
        byte[] reply = new Payload().U64(0x12_3000).U32(8).Bytes(1, 2, 3, 4, 5, 6, 7, 8).Bytes(0, 0, 0, 0);
        Assert.Equal(MessageHeader.Size + 16 + 8, MessageHeader.Size + reply.Length);
        Assert.Equal(0, DmaAccess.DecodeReply(reply, DmaMessageLayout.Qemu, isWrite: false, read, out var data));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, data.ToArray());

        // The same bytes read with the spec's layout are a different access: the pitfall, pinned.
        Assert.Equal(EINVAL, DmaAccess.DecodeReply(reply, DmaMessageLayout.Spec, isWrite: false, read, out _));
    }

    [Fact]
    public void A_QEMU_write_puts_the_data_at_payload_offset_12_and_QEMUs_reply_is_empty()
    {
        var write = new DmaAccess(0x4000, 4);
        var bytes = new byte[64];
        int length = write.EncodeRequest(bytes, DmaMessageLayout.Qemu, [9, 8, 7, 6]);
        Assert.Equal(20, length);   // msg_size 36: count <= msg_size - 32 holds
        Assert.Equal(new byte[] { 9, 8, 7, 6 }, bytes[12..16]);

        Assert.Equal(0, DmaAccess.DecodeRequest(bytes.AsSpan(0, length), 0, DmaMessageLayout.Qemu, isWrite: true, Limits, out var decoded, out var data));
        Assert.Equal(write, decoded);
        Assert.Equal(new byte[] { 9, 8, 7, 6 }, data.ToArray());

        Assert.Equal(0, write.EncodeReply(bytes, DmaMessageLayout.Qemu, isWrite: true));
        Assert.Equal(0, DmaAccess.DecodeReply([], DmaMessageLayout.Qemu, isWrite: true, write, out _));
        Assert.Equal(EINVAL, DmaAccess.DecodeReply(new byte[16], DmaMessageLayout.Qemu, isWrite: true, write, out _));
    }

    [Fact]
    public void The_spec_layout_has_a_64_bit_count_and_data_at_16()
    {
        var read = new DmaAccess(0x8000, 3);
        var bytes = new byte[64];
        Assert.Equal(16, read.EncodeRequest(bytes, DmaMessageLayout.Spec));
        Assert.Equal(3ul, Payload.ReadU64(bytes, 8));
        Assert.Equal(0, DmaAccess.DecodeRequest(bytes.AsSpan(0, 16), 0, DmaMessageLayout.Spec, isWrite: false, Limits, out var decoded, out _));
        Assert.Equal(read, decoded);

        int length = read.EncodeReply(bytes, DmaMessageLayout.Spec, isWrite: false, [1, 2, 3]);
        Assert.Equal(19, length);
        Assert.Equal(0, DmaAccess.DecodeReply(bytes.AsSpan(0, length), DmaMessageLayout.Spec, isWrite: false, read, out var data));
        Assert.Equal(new byte[] { 1, 2, 3 }, data.ToArray());

        var write = new DmaAccess(0x8000, 3);
        Assert.Equal(16, write.EncodeReply(bytes, DmaMessageLayout.Spec, isWrite: true));
        Assert.Equal(0, DmaAccess.DecodeReply(bytes.AsSpan(0, 16), DmaMessageLayout.Spec, isWrite: true, write, out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Malformed_requests_get_their_errno(bool qemuLayout)
    {
        var layout = qemuLayout ? DmaMessageLayout.Qemu : DmaMessageLayout.Spec;
        var bytes = new byte[64];
        Assert.Equal(EINVAL, DmaAccess.DecodeRequest(bytes.AsSpan(0, 15), 0, layout, false, Limits, out _, out _));
        new DmaAccess(0, 0).EncodeRequest(bytes, layout);
        Assert.Equal(EINVAL, DmaAccess.DecodeRequest(bytes.AsSpan(0, 16), 0, layout, false, Limits, out _, out _));
        new DmaAccess(ulong.MaxValue, 2).EncodeRequest(bytes, layout);
        Assert.Equal(EINVAL, DmaAccess.DecodeRequest(bytes.AsSpan(0, 16), 0, layout, false, Limits, out _, out _));
        new DmaAccess(0, 4097).EncodeRequest(bytes, layout);
        Assert.Equal(E2BIG, DmaAccess.DecodeRequest(bytes.AsSpan(0, 16), 0, layout, false, Limits, out _, out _));
        new DmaAccess(0, 4).EncodeRequest(bytes, layout);
        Assert.Equal(EINVAL, DmaAccess.DecodeRequest(bytes.AsSpan(0, 16), 1, layout, false, Limits, out _, out _));
        // A write whose data is not count bytes.
        Assert.Equal(EINVAL, DmaAccess.DecodeRequest(bytes.AsSpan(0, 19), 0, layout, true, Limits, out var access, out var data));
        Assert.Equal(default, access);
        Assert.True(data.IsEmpty);
    }
}
