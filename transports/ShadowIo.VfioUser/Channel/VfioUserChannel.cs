using System.Runtime.InteropServices;
using ShadowIo.Native;
using ShadowIo.VfioUser.Protocol;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Channel;

/// <summary>
/// vfio-user messages over a connected AF_UNIX stream socket. A send puts header, payload and fds
/// into one <c>sendmsg</c>: QEMU collects a message's fds when it reads the 16-byte header. A
/// receive reads the header on its own, then exactly msg_size − 16 bytes, collecting the fds of
/// every chunk, so a read never runs into the next message (Linux does not merge stream data
/// across a message that carries fds).
/// </summary>
/// <remarks>
/// Everything the peer controls ends in a <see cref="ReceiveStatus"/>, never an exception: an
/// oversized message is drained and refused (E2BIG) so the stream stays framed, truncated or
/// surplus fds are closed and the message refused, and a stream that cannot be framed is reported
/// for the caller to close. Exceptions mean this side's own failure (a closed socket, EBADF).
/// </remarks>
internal sealed unsafe class VfioUserChannel : IDisposable
{
    private readonly FileDescriptorHandle _socket;
    private readonly byte[] _header = new byte[MessageHeader.Size];
    private readonly byte[] _sendControl;
    private readonly byte[] _receiveControl;
    private readonly byte[] _discard = new byte[4096];

    /// <summary>Takes ownership of a connected stream socket.</summary>
    /// <param name="socket">The socket.</param>
    /// <param name="maxSendFds">The most fds one sent message carries (the peer's max_msg_fds).</param>
    /// <param name="maxReceiveFds">
    /// The most fds one received message may carry (a client reading GET_REGION_IO_FDS takes one per
    /// doorbell); room for twice as many is kept so a peer sending too many is seen, not truncated silently.
    /// </param>
    public VfioUserChannel(FileDescriptorHandle socket, int maxSendFds = ProtocolLimits.LargestMaxMessageFds, int maxReceiveFds = ProtocolLimits.LargestMaxMessageFds)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        MaxSendFds = maxSendFds;
        _sendControl = new byte[RightsControl.BufferSize(maxSendFds)];
        // Room for more fds than any message may carry: a peer sending too many is seen (and
        // refused), not silently truncated by the kernel.
        _receiveControl = new byte[RightsControl.BufferSize(2 * Math.Max(maxReceiveFds, ProtocolLimits.LargestMaxMessageFds))];
    }

    /// <summary>The socket's descriptor, for a poll that also waits on a wake event (-1 once closed).</summary>
    public int Fd => _socket.Fd;

    /// <summary>The most fds <see cref="Send"/> attaches to one message.</summary>
    public int MaxSendFds { get; }

    /// <summary>A connected pair (tests, and a server spawned with one end).</summary>
    public static (VfioUserChannel First, VfioUserChannel Second) CreatePair(int maxSendFds = ProtocolLimits.LargestMaxMessageFds)
    {
        int* fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
            throw SocketError("socketpair", Marshal.GetLastPInvokeError());
        return (new VfioUserChannel(new FileDescriptorHandle(fds[0]), maxSendFds), new VfioUserChannel(new FileDescriptorHandle(fds[1]), maxSendFds));
    }

    /// <summary>
    /// Sends one message: <paramref name="header"/> (its msg_size must be 16 + the payload's
    /// length), the payload and <paramref name="fds"/> as SCM_RIGHTS, in one sendmsg (more only if
    /// the kernel takes part of it; the fds go with the first). False when the peer has gone (EPIPE,
    /// ECONNRESET).
    /// </summary>
    public bool Send(in MessageHeader header, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds = default)
    {
        if (header.MessageSize != MessageHeader.Size + payload.Length)
            throw new ArgumentException($"msg_size {header.MessageSize} does not cover the header and {payload.Length} bytes of payload.", nameof(header));
        if (fds.Length > MaxSendFds)
            throw new ArgumentException($"{fds.Length} fds; the peer takes at most {MaxSendFds} per message.", nameof(fds));
        header.Write(_header);
        long total = MessageHeader.Size + payload.Length;
        long sent = 0;
        bool addRef = false;
        _socket.DangerousAddRef(ref addRef);
        try
        {
            fixed (byte* head = _header)
            fixed (byte* body = payload)
            fixed (byte* control = _sendControl)
            {
                var vectors = stackalloc SocketMessages.IoVector[2];
                while (sent < total)
                {
                    int count = 0;
                    if (sent < MessageHeader.Size)
                        vectors[count++] = new SocketMessages.IoVector { Base = head + sent, Length = (nuint)(MessageHeader.Size - sent) };
                    long bodySent = Math.Max(0, sent - MessageHeader.Size);
                    if (bodySent < payload.Length)
                        vectors[count++] = new SocketMessages.IoVector { Base = body + bodySent, Length = (nuint)(payload.Length - bodySent) };
                    var message = new SocketMessages.MessageHeader { Vectors = vectors, VectorCount = (nuint)count };
                    if (sent == 0 && !fds.IsEmpty)
                    {
                        message.Control = control;
                        message.ControlLength = (nuint)RightsControl.Write(control, fds);
                    }
                    long n = SocketMessages.SendMessage(_socket.Fd, &message, SocketMessages.MsgNoSignal);
                    if (n < 0)
                    {
                        int error = Marshal.GetLastPInvokeError();
                        if (error == Errno.EINTR)
                            continue;
                        if (error == Errno.EPIPE || error == Errno.ECONNRESET)
                            return false;
                        throw SocketError("sendmsg", error);
                    }
                    sent += n;
                }
            }
            return true;
        }
        finally
        {
            if (addRef)
                _socket.DangerousRelease();
        }
    }

    /// <summary>Sends the error reply (header only, positive errno) to <paramref name="command"/>.</summary>
    public bool SendError(in MessageHeader command, int errno) => Send(MessageHeader.ForError(command, errno), default);

    /// <summary>Receives one message into <paramref name="message"/> (its previous fds not taken are closed first).</summary>
    public ReceiveStatus Receive(ReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Reset();
        bool addRef = false;
        _socket.DangerousAddRef(ref addRef);
        try
        {
            var got = ReceiveExactly(_header, message.Fds, out bool truncated);
            if (got == 0)
            {
                // The stream ended between messages (fds never ride on zero bytes).
                message.Fds.CloseAll();
                return ReceiveStatus.Closed;
            }
            if (got < MessageHeader.Size)
                return Corrupt(message);
            MessageHeader.TryRead(_header, out var header);
            message.Header = header;
            if (header.MessageSize < MessageHeader.Size)
                return Corrupt(message);
            int error = header.Validate(message.Limits.MaxMessageSize);
            if (error == Errno.E2BIG)
            {
                if (!Discard(header.MessageSize - MessageHeader.Size, message.Fds, ref truncated))
                    return Corrupt(message);
                return Reject(message, Errno.E2BIG);
            }
            int payloadLength = header.PayloadSize;
            if (ReceiveExactly(message.PayloadBuffer[..payloadLength], message.Fds, out bool payloadTruncated) < payloadLength)
                return Corrupt(message);
            truncated |= payloadTruncated;
            if (error != 0)
                return Reject(message, error);
            if (truncated || message.Fds.Overflowed || message.Fds.Count > message.Limits.MaxMessageFds)
                return Reject(message, Errno.EINVAL);
            message.PayloadLength = payloadLength;
            return ReceiveStatus.Message;
        }
        finally
        {
            if (addRef)
                _socket.DangerousRelease();
        }
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _socket.Dispose();

    /// <summary>
    /// Reads until <paramref name="destination"/> is full or the stream ends; every fd that arrives
    /// goes to <paramref name="fds"/>. Returns the bytes read; <paramref name="truncated"/> when the
    /// kernel dropped fds that did not fit the control buffer (MSG_CTRUNC).
    /// </summary>
    private int ReceiveExactly(Span<byte> destination, ReceivedFds fds, out bool truncated)
    {
        truncated = false;
        int got = 0;
        fixed (byte* buffer = destination)
        fixed (byte* control = _receiveControl)
        {
            while (got < destination.Length)
            {
                var vector = new SocketMessages.IoVector { Base = buffer + got, Length = (nuint)(destination.Length - got) };
                var message = new SocketMessages.MessageHeader
                {
                    Vectors = &vector,
                    VectorCount = 1,
                    Control = control,
                    ControlLength = (nuint)_receiveControl.Length,
                };
                long n = SocketMessages.ReceiveMessage(_socket.Fd, &message, SocketMessages.MsgCmsgCloexec);
                if (n < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error == Errno.EINTR)
                        continue;
                    if (error == Errno.ECONNRESET)
                        return got;
                    throw SocketError("recvmsg", error);
                }
                fds.Collect(control, (long)message.ControlLength);
                if ((message.Flags & SocketMessages.MsgCtrunc) != 0)
                    truncated = true;
                if (n == 0)
                    return got;
                got += (int)n;
            }
        }
        return got;
    }

    /// <summary>Reads and drops <paramref name="length"/> bytes (an oversized payload), closing any fds on them. False if the stream ended first.</summary>
    private bool Discard(long length, ReceivedFds fds, ref bool truncated)
    {
        while (length > 0)
        {
            int chunk = (int)Math.Min(length, _discard.Length);
            int got = ReceiveExactly(_discard.AsSpan(0, chunk), fds, out bool chunkTruncated);
            truncated |= chunkTruncated;
            // The fds of a refused message are closed as they arrive, so a long payload cannot pile them up.
            fds.CloseAll();
            if (got < chunk)
                return false;
            length -= got;
        }
        return true;
    }

    private static ReceiveStatus Reject(ReceivedMessage message, int errno)
    {
        message.Fds.CloseAll();
        message.PayloadLength = 0;
        message.Error = errno;
        return ReceiveStatus.Rejected;
    }

    private static ReceiveStatus Corrupt(ReceivedMessage message)
    {
        message.Fds.CloseAll();
        message.PayloadLength = 0;
        return ReceiveStatus.Corrupt;
    }

    private static IOException SocketError(string call, int errno) =>
        new($"{call} failed on the vfio-user socket: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
}
