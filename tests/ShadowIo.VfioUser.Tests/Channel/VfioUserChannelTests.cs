using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Channel;

/// <summary>The channel over a real socketpair, with real fds crossing it.</summary>
public sealed unsafe class VfioUserChannelTests
{
    private static readonly ProtocolLimits Limits = new(4096, 8);

    private static byte[] Message(ushort id, VfioUserCommand command, ReadOnlySpan<byte> payload, MessageFlags flags = MessageFlags.Command, uint? size = null)
    {
        var bytes = new byte[MessageHeader.Size + payload.Length];
        new MessageHeader(id, command, size ?? (uint)bytes.Length, flags, 0).Write(bytes);
        payload.CopyTo(bytes.AsSpan(MessageHeader.Size));
        return bytes;
    }

    [Fact]
    public void A_message_and_its_eventfds_cross_in_one_send_and_the_received_fds_are_the_same_files()
    {
        var (server, client) = VfioUserChannel.CreatePair();
        using var serverOwner = server;
        using var clientOwner = client;
        int first = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), second = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        try
        {
            var set = new IrqSetRequest(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 2);
            var payload = new byte[IrqSetRequest.WireSize];
            set.Encode(payload);
            Assert.True(client.Send(MessageHeader.ForCommand(5, VfioUserCommand.DeviceSetIrqs, payload.Length), payload, [first, second]));

            using var message = new ReceivedMessage(Limits);
            Assert.Equal(ReceiveStatus.Message, server.Receive(message));
            Assert.Equal(VfioUserCommand.DeviceSetIrqs, message.Header.Command);
            Assert.Equal(2, message.Fds.Count);
            Assert.Equal(0, IrqSetRequest.Decode(message.Payload, message.Fds.Count, out var decoded, out _));
            Assert.Equal(set, decoded);

            // Signalling the received copy of vector 1 shows on the client's eventfd.
            using var vector1 = message.Fds.Take(1);
            ulong one = 1, value;
            Assert.Equal(8, write(vector1.Fd, &one, 8));
            Assert.Equal(8, read(second, &value, 8));
            Assert.Equal(1ul, value);
            Assert.Equal(-1, message.Fds.Peek(1));
        }
        finally
        {
            close(first);
            close(second);
        }
    }

    [Fact]
    public void Fds_not_taken_are_closed_by_the_next_receive_and_taken_ones_stay_open()
    {
        using var peer = new RawPeer();
        using var kept = new Pipe();
        using var dropped = new Pipe();
        peer.Send(Message(1, VfioUserCommand.DeviceSetIrqs, new byte[20]), kept.WriteEnd, dropped.WriteEnd);
        kept.CloseOurWriteEnd();
        dropped.CloseOurWriteEnd();
        peer.Send(Message(2, VfioUserCommand.DeviceReset, []));

        using var message = new ReceivedMessage(Limits);
        Assert.Equal(ReceiveStatus.Message, peer.Channel.Receive(message));
        using var keptFd = message.Fds.Take(0);
        Assert.False(dropped.WriteEndClosedEverywhere());
        Assert.Equal(ReceiveStatus.Message, peer.Channel.Receive(message));
        Assert.Equal((ushort)2, message.Header.MessageId);
        Assert.True(dropped.WriteEndClosedEverywhere());
        Assert.False(kept.WriteEndClosedEverywhere());
        keptFd.Dispose();
        Assert.True(kept.WriteEndClosedEverywhere());
    }

    [Fact]
    public void A_message_split_into_many_sends_with_its_fds_on_a_later_chunk_still_arrives_whole()
    {
        using var peer = new RawPeer();
        using var pipe = new Pipe();
        var bytes = Message(9, VfioUserCommand.DmaMap, new byte[32]);
        for (int i = 0; i < 20; i++)
            peer.Send(bytes.AsSpan(i, 1));
        peer.Send(bytes.AsSpan(20), pipe.WriteEnd);
        pipe.CloseOurWriteEnd();

        using var message = new ReceivedMessage(Limits);
        Assert.Equal(ReceiveStatus.Message, peer.Channel.Receive(message));
        Assert.Equal(32, message.Payload.Length);
        Assert.Equal(1, message.Fds.Count);
    }

    [Fact]
    public void An_oversized_message_is_drained_and_refused_with_E2BIG_and_the_next_one_is_framed()
    {
        using var peer = new RawPeer();
        using var pipe = new Pipe();
        var big = new byte[Limits.MaxMessageSize + 100 - MessageHeader.Size];
        peer.Send(Message(3, VfioUserCommand.RegionWrite, big), pipe.WriteEnd);
        pipe.CloseOurWriteEnd();
        peer.Send(Message(4, VfioUserCommand.DeviceReset, []));

        using var message = new ReceivedMessage(Limits);
        Assert.Equal(ReceiveStatus.Rejected, peer.Channel.Receive(message));
        Assert.Equal(E2BIG, message.Error);
        Assert.Equal((ushort)3, message.Header.MessageId);
        Assert.True(pipe.WriteEndClosedEverywhere());
        Assert.Equal(ReceiveStatus.Message, peer.Channel.Receive(message));
        Assert.Equal((ushort)4, message.Header.MessageId);
    }

    [Fact]
    public void More_fds_than_max_msg_fds_are_refused_and_every_one_is_closed()
    {
        using var peer = new RawPeer();
        var pipes = Enumerable.Range(0, Limits.MaxMessageFds + 1).Select(_ => new Pipe()).ToArray();
        try
        {
            peer.Send(Message(5, VfioUserCommand.DeviceSetIrqs, new byte[20]), pipes.Select(p => p.WriteEnd).ToArray());
            foreach (var p in pipes)
                p.CloseOurWriteEnd();

            using var message = new ReceivedMessage(Limits);
            Assert.Equal(ReceiveStatus.Rejected, peer.Channel.Receive(message));
            Assert.Equal(EINVAL, message.Error);
            Assert.Equal(0, message.Fds.Count);
            Assert.All(pipes, p => Assert.True(p.WriteEndClosedEverywhere()));
        }
        finally
        {
            foreach (var p in pipes)
                p.Dispose();
        }
    }

    [Fact]
    public void Fds_the_kernel_truncated_MSG_CTRUNC_make_the_message_refused_with_the_rest_closed()
    {
        // The receive buffer holds 32 fds; 33 in one message make the kernel drop one and say
        // MSG_CTRUNC. The limit here lets 32 through, so only the truncation refuses the message.
        using var peer = new RawPeer();
        var pipes = Enumerable.Range(0, 33).Select(_ => new Pipe()).ToArray();
        try
        {
            peer.Send(Message(6, VfioUserCommand.DeviceSetIrqs, new byte[20]), pipes.Select(p => p.WriteEnd).ToArray());
            peer.Send(Message(7, VfioUserCommand.DeviceReset, []));
            foreach (var p in pipes)
                p.CloseOurWriteEnd();

            using var message = new ReceivedMessage(Limits with { MaxMessageFds = 32 });
            Assert.Equal(ReceiveStatus.Rejected, peer.Channel.Receive(message));
            Assert.Equal(EINVAL, message.Error);
            Assert.All(pipes, p => Assert.True(p.WriteEndClosedEverywhere()));
            Assert.Equal(ReceiveStatus.Message, peer.Channel.Receive(message));
            Assert.Equal((ushort)7, message.Header.MessageId);
        }
        finally
        {
            foreach (var p in pipes)
                p.Dispose();
        }
    }

    [Fact]
    public void A_bad_header_is_refused_after_its_payload_is_consumed()
    {
        using var peer = new RawPeer();
        peer.Send(Message(8, VfioUserCommand.Version, new byte[8], flags: (MessageFlags)0x40));
        peer.Send(Message(9, VfioUserCommand.DeviceReset, []));

        using var message = new ReceivedMessage(Limits);
        Assert.Equal(ReceiveStatus.Rejected, peer.Channel.Receive(message));
        Assert.Equal(EINVAL, message.Error);
        Assert.Equal(ReceiveStatus.Message, peer.Channel.Receive(message));
        Assert.Equal((ushort)9, message.Header.MessageId);
    }

    [Fact]
    public void A_stream_that_ends_inside_a_message_is_corrupt_and_its_fds_are_closed()
    {
        using var peer = new RawPeer();
        using var pipe = new Pipe();
        peer.Send(Message(1, VfioUserCommand.DmaMap, new byte[32]).AsSpan(0, 30), pipe.WriteEnd);
        pipe.CloseOurWriteEnd();
        peer.CloseRaw();

        using var message = new ReceivedMessage(Limits);
        Assert.Equal(ReceiveStatus.Corrupt, peer.Channel.Receive(message));
        Assert.True(pipe.WriteEndClosedEverywhere());
    }

    [Fact]
    public void A_size_below_the_header_cannot_be_framed_and_an_end_between_messages_is_a_close()
    {
        using var peer = new RawPeer();
        peer.Send(Message(1, VfioUserCommand.Version, [], size: 8));
        using var message = new ReceivedMessage(Limits);
        Assert.Equal(ReceiveStatus.Corrupt, peer.Channel.Receive(message));

        using var other = new RawPeer();
        other.Send(Message(2, VfioUserCommand.DeviceReset, []));
        other.CloseRaw();
        Assert.Equal(ReceiveStatus.Message, other.Channel.Receive(message));
        Assert.Equal(ReceiveStatus.Closed, other.Channel.Receive(message));
    }

    [Fact]
    public void Sending_to_a_peer_that_has_gone_reports_false()
    {
        using var peer = new RawPeer();
        peer.CloseRaw();
        Assert.False(peer.Channel.SendError(new MessageHeader(1, VfioUserCommand.Version, 16, 0, 0), EINVAL));
    }

    [Fact]
    public void An_error_reply_crosses_as_the_header_alone()
    {
        var (server, client) = VfioUserChannel.CreatePair();
        using var serverOwner = server;
        using var clientOwner = client;
        var command = MessageHeader.ForCommand(77, VfioUserCommand.DmaMap, 32);
        Assert.True(server.SendError(command, EEXIST));

        using var message = new ReceivedMessage(Limits);
        Assert.Equal(ReceiveStatus.Message, client.Receive(message));
        Assert.Equal(MessageHeader.ForError(command, EEXIST), message.Header);
        Assert.True(message.Payload.IsEmpty);
    }
}
