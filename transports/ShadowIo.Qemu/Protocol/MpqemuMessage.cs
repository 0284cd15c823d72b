using ShadowIo.Native;

namespace ShadowIo.Qemu.Protocol;

/// <summary>
/// One received message. The buffers are owned by the channel and reused for the next
/// message: nothing is allocated per message. Received fds belong to whoever handles the
/// message, which must close every one it does not keep.
/// </summary>
internal sealed class MpqemuMessage
{
    private readonly byte[] _payload = new byte[MpqemuWire.MaxPayloadSize];
    private readonly int[] _fds = new int[MpqemuChannel.MaxReceivedFds];

    /// <summary>The raw command (may be any value a broken peer sends).</summary>
    public int Command { get; internal set; }

    /// <summary>The payload size the header announced (already checked ≤ <see cref="MpqemuWire.MaxPayloadSize"/>).</summary>
    public int PayloadSize { get; internal set; }

    public int FdCount { get; internal set; }

    /// <summary>Whether more fds arrived than fit (the extras were closed on arrival).</summary>
    public bool FdsTruncated { get; internal set; }

    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, PayloadSize);

    public ReadOnlySpan<int> Fds => _fds.AsSpan(0, FdCount);

    internal byte[] PayloadBuffer => _payload;

    internal int[] FdBuffer => _fds;

    /// <summary>Takes fd <paramref name="index"/> out of the message (so a later close-all skips it).</summary>
    public int TakeFd(int index)
    {
        int fd = _fds[index];
        _fds[index] = -1;
        return fd;
    }

    /// <summary>Closes every fd still held by the message.</summary>
    public void CloseFds()
    {
        FileDescriptors.CloseAll(Fds);
        FdCount = 0;
    }

    internal void Clear()
    {
        Command = -1;
        PayloadSize = 0;
        FdCount = 0;
        FdsTruncated = false;
    }
}
