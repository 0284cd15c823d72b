using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Protocol;

public sealed class MessageHeaderTests
{
    [Fact]
    public void A_header_is_16_little_endian_bytes_in_the_spec_order()
    {
        var header = new MessageHeader(0x1234, VfioUserCommand.RegionWrite, 40, MessageFlags.NoReply, 0);
        var bytes = new byte[MessageHeader.Size];
        header.Write(bytes);

        Assert.Equal(new Payload().U16(0x1234).U16(10).U32(40).U32(0x10).U32(0).ToArray(), bytes);
        Assert.True(MessageHeader.TryRead(bytes, out var read));
        Assert.Equal(header, read);
        Assert.Equal(24, read.PayloadSize);
        Assert.True(read.NoReply);
        Assert.False(read.IsReply);
    }

    [Fact]
    public void Replies_echo_the_command_and_an_error_reply_is_the_header_alone_with_a_positive_errno()
    {
        var command = MessageHeader.ForCommand(7, VfioUserCommand.DmaMap, 32);
        Assert.Equal(48u, command.MessageSize);

        var reply = MessageHeader.ForReply(command, 0);
        Assert.Equal((ushort)7, reply.MessageId);
        Assert.Equal(VfioUserCommand.DmaMap, reply.Command);
        Assert.True(reply.IsReply);
        Assert.False(reply.IsError);

        var error = MessageHeader.ForError(command, EEXIST);
        Assert.Equal(16u, error.MessageSize);
        Assert.True(error.IsReply && error.IsError);
        Assert.Equal((uint)EEXIST, error.Error);
        Assert.Equal(0, error.Validate(1 << 20));
    }

    [Fact]
    public void Fewer_than_16_bytes_are_no_header()
    {
        Assert.False(MessageHeader.TryRead(new byte[15], out _));
    }

    public static TheoryData<string, uint, uint, int> Headers => new()
    {
        { "msg_size below the header's own size", 15u, 0u, EINVAL },
        { "past the limit", 1025u, 0u, E2BIG },
        { "type 2 is neither command nor reply", 16u, 2u, EINVAL },
        { "a reserved flag bit", 16u, 0x40u, EINVAL },
        { "ERROR on a command", 16u, 0x20u, EINVAL },
        { "a reply with NO_REPLY set is odd but well-formed", 1024u, 0x11u, 0 },
        { "an error reply", 16u, 0x21u, 0 },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void Validation_names_the_errno_for_each_malformed_header(string why, uint size, uint flags, int expected)
    {
        var header = new MessageHeader(1, VfioUserCommand.Version, size, (MessageFlags)flags, 0);
        Assert.True(expected == header.Validate(1024), why);
    }
}
