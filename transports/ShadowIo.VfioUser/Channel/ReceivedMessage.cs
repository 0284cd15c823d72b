using ShadowIo.Native;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.VfioUser.Channel;

/// <summary>
/// One received message, reused from receive to receive (no allocation per message): the header,
/// the payload in a buffer sized for the largest message the limits allow, and the fds.
/// </summary>
internal sealed class ReceivedMessage : IDisposable
{
    private readonly byte[] _payload;

    /// <summary>A buffer for messages within <paramref name="limits"/>.</summary>
    public ReceivedMessage(ProtocolLimits limits)
    {
        Limits = limits;
        _payload = new byte[limits.MaxMessageSize - MessageHeader.Size];
        Fds = new ReceivedFds(limits.MaxMessageFds);
    }

    /// <summary>What the messages are held to.</summary>
    public ProtocolLimits Limits { get; }

    /// <summary>The header (also for a <see cref="ReceiveStatus.Rejected"/> message, to address the error reply).</summary>
    public MessageHeader Header { get; internal set; }

    /// <summary>The payload (empty for a rejected message).</summary>
    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, PayloadLength);

    /// <summary>The fds that came with it; take the ones to keep, the rest are closed by the next receive.</summary>
    public ReceivedFds Fds { get; }

    /// <summary>For <see cref="ReceiveStatus.Rejected"/>: the errno to reply with.</summary>
    public int Error { get; internal set; }

    internal int PayloadLength { get; set; }

    internal Span<byte> PayloadBuffer => _payload;

    /// <summary>Forgets the last message and closes its fds not taken.</summary>
    internal void Reset()
    {
        Header = default;
        PayloadLength = 0;
        Error = 0;
        Fds.CloseAll();
    }

    /// <summary>Closes the fds not taken.</summary>
    public void Dispose() => Fds.Dispose();
}
