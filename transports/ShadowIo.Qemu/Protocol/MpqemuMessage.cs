using ShadowIo.Native;

namespace ShadowIo.Qemu.Protocol;

/// <summary>
/// One received message. The buffers are owned by the channel and reused for the next
/// message: nothing is allocated per message. Received fds stay owned by <see cref="Fds"/>
/// until the handler takes the ones it keeps; the rest are closed with the message.
/// </summary>
internal sealed class MpqemuMessage
{
    private readonly byte[] _payload = new byte[MpqemuWire.MaxPayloadSize];

    /// <summary>The raw command (may be any value a broken peer sends).</summary>
    public int Command { get; internal set; }

    /// <summary>The payload size the header announced (already checked ≤ <see cref="MpqemuWire.MaxPayloadSize"/>).</summary>
    public int PayloadSize { get; internal set; }

    /// <summary>The fds that came with the message (SCM_RIGHTS), owned until taken.</summary>
    public ReceivedFds Fds { get; } = new(MpqemuChannel.MaxReceivedFds);

    /// <summary>How many fds arrived (taken ones included).</summary>
    public int FdCount => Fds.Count;

    /// <summary>Whether more fds arrived than fit, or the kernel dropped some (MSG_CTRUNC): the extras were closed on arrival.</summary>
    public bool FdsTruncated { get; internal set; }

    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, PayloadSize);

    internal byte[] PayloadBuffer => _payload;

    /// <summary>Closes every fd still held by the message.</summary>
    public void CloseFds() => Fds.CloseAll();

    internal void Clear()
    {
        Command = -1;
        PayloadSize = 0;
        Fds.CloseAll();
        FdsTruncated = false;
    }
}
