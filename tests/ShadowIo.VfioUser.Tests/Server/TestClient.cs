using Xunit;
using System.Text;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.VfioUser.Tests.Server;

/// <summary>The client side of the tests: sends a command, waits for its reply (the server answers in order).</summary>
internal sealed class TestClient : IDisposable
{
    private readonly VfioUserChannel _channel;
    private readonly ReceivedMessage _message = new(new ProtocolLimits(ProtocolLimits.DefaultMaxDataTransferSize, 253));
    private ushort _nextId = 1;

    public TestClient(VfioUserChannel channel) => _channel = channel;

    public sealed record Reply(MessageHeader Header, byte[] Payload, FileDescriptorHandleList Fds);

    /// <summary>Sends <paramref name="payload"/> as <paramref name="command"/> and returns the reply with its fds (owned by the caller).</summary>
    public Reply Request(VfioUserCommand command, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds = default)
    {
        ushort id = Send(command, payload, fds);
        var reply = Receive();
        Assert.Equal(id, reply.Header.MessageId);
        Assert.Equal(command, reply.Header.Command);
        return reply;
    }

    /// <summary>Sends a command; returns its message id.</summary>
    public ushort Send(VfioUserCommand command, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds = default, bool noReply = false)
    {
        ushort id = _nextId++;
        Assert.True(_channel.Send(MessageHeader.ForCommand(id, command, payload.Length, noReply), payload, fds));
        return id;
    }

    /// <summary>Sends raw bytes (any framing).</summary>
    public unsafe void SendRaw(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
            Assert.Equal(bytes.Length, (int)Tmds.Linux.LibC.write(_channel.Fd, p, bytes.Length));
    }

    public Reply Receive()
    {
        Assert.Equal(ReceiveStatus.Message, _channel.Receive(_message));
        Assert.True(_message.Header.IsReply);
        var fds = new FileDescriptorHandleList();
        for (int i = 0; i < _message.Fds.Count; i++) fds.Add(_message.Fds.Take(i));
        return new Reply(_message.Header, _message.Payload.ToArray(), fds);
    }

    /// <summary>Whether the server closed the link.</summary>
    public bool IsClosed() => _channel.Receive(_message) == ReceiveStatus.Closed;

    public byte[] VersionPayload(string json)
    {
        var text = Encoding.UTF8.GetBytes(json);
        var payload = new byte[4 + text.Length + 1];
        text.CopyTo(payload, 4);
        return payload;
    }

    public void Dispose()
    {
        _channel.Dispose();
        _message.Dispose();
    }
}

/// <summary>The fds of a reply; disposing closes them.</summary>
internal sealed class FileDescriptorHandleList : List<ShadowIo.Native.FileDescriptorHandle>, IDisposable
{
    public void Dispose()
    {
        foreach (var fd in this) fd.Dispose();
    }
}
