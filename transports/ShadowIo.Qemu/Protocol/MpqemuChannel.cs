using ShadowIo.Native;
using System.Runtime.InteropServices;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Protocol;

/// <summary>What one receive produced.</summary>
internal enum ReceiveStatus
{
    Message,
    /// <summary>The peer closed the socket between messages.</summary>
    Closed,
    /// <summary>The stream can no longer be trusted (truncated message, oversized payload): close it.</summary>
    Corrupt,
}

/// <summary>
/// Message framing over a connected AF_UNIX stream socket, as QEMU's mpqemu-link does it: a
/// 16-byte header, then the payload, fds riding as SCM_RIGHTS on the first byte. Used by the
/// server (remote side) and by tests playing QEMU's side.
/// </summary>
/// <remarks>
/// The header is read on its own so the read never runs into the next message; Linux does
/// not merge stream data across a message that carries fds, so fds always arrive with the
/// header of their message.
/// </remarks>
internal sealed unsafe class MpqemuChannel : IDisposable
{
    /// <summary>More than QEMU ever sends (8), so a peer that sends too many is seen, not truncated silently.</summary>
    public const int MaxReceivedFds = 16;

    private readonly byte[] _header = new byte[MpqemuWire.HeaderSize];
    private readonly byte[] _sendBuffer = new byte[MpqemuWire.HeaderSize + MpqemuWire.MaxPayloadSize];
    private readonly byte[] _control = new byte[RightsControl.BufferSize(MaxReceivedFds)];
    private readonly FileDescriptorHandle _socket;

    /// <summary>Takes ownership of a connected stream socket.</summary>
    public MpqemuChannel(FileDescriptorHandle socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.IsInvalid || socket.IsClosed) throw new ArgumentException("The proxy link's socket is not open.", nameof(socket));
        _socket = socket;
    }

    /// <summary>The socket's number, for poll (-1 once disposed).</summary>
    public int Fd => _socket.Fd;

    /// <summary>Creates a connected pair of close-on-exec stream sockets; the two ends are interchangeable.</summary>
    public static (FileDescriptorHandle First, FileDescriptorHandle Second) CreateSocketPair()
    {
        int* fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw PosixError.Create("socketpair", "the QEMU proxy link");
        return (new FileDescriptorHandle(fds[0]), new FileDescriptorHandle(fds[1]));
    }

    /// <summary>Receives one message into <paramref name="message"/>.</summary>
    public ReceiveStatus Receive(MpqemuMessage message)
    {
        message.Clear();
        AddSocketRef("recvmsg");
        try
        {
            return ReceiveMessage(message);
        }
        finally
        {
            _socket.DangerousRelease();
        }
    }

    private ReceiveStatus ReceiveMessage(MpqemuMessage message)
    {
        int got = ReceiveExactly(_header, 0, message, out bool eof);
        if (eof) return got == 0 ? ReceiveStatus.Closed : Corrupt(message);
        (int command, ulong size) = MpqemuWire.ReadHeader(_header);
        message.Command = command;
        if (size > MpqemuWire.MaxPayloadSize) return Corrupt(message);
        message.PayloadSize = (int)size;
        if (size > 0)
        {
            ReceiveExactly(message.PayloadBuffer.AsSpan(0, (int)size), 0, message, out eof);
            if (eof) return Corrupt(message);
        }
        return ReceiveStatus.Message;
    }

    /// <summary>Sends one message; fds (if any) ride on it as SCM_RIGHTS.</summary>
    public void Send(MpqemuCommand command, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds = default) =>
        SendRaw((int)command, (ulong)payload.Length, payload, fds);

    /// <summary>Sends a RET carrying <paramref name="value"/>.</summary>
    public void SendReturn(ulong value)
    {
        Span<byte> payload = stackalloc byte[MpqemuWire.RetSize];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(payload, value);
        Send(MpqemuCommand.Ret, payload);
    }

    /// <summary>Sends any header (tests use it to play a broken peer).</summary>
    public void SendRaw(int command, ulong announcedSize, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds)
    {
        if (fds.Length > MaxReceivedFds) throw new ArgumentOutOfRangeException(nameof(fds), "Too many fds for one message.");
        if (payload.Length > MpqemuWire.MaxPayloadSize) throw new ArgumentOutOfRangeException(nameof(payload), "Payload larger than the protocol allows.");
        int total = MpqemuWire.HeaderSize + payload.Length;
        MpqemuWire.WriteHeader(_sendBuffer, (MpqemuCommand)command, announcedSize);
        payload.CopyTo(_sendBuffer.AsSpan(MpqemuWire.HeaderSize));
        AddSocketRef("sendmsg");
        try
        {
            SendAll(total, fds);
        }
        finally
        {
            _socket.DangerousRelease();
        }
    }

    private void SendAll(int total, ReadOnlySpan<int> fds)
    {
        int sent = 0;
        fixed (byte* buffer = _sendBuffer)
        fixed (byte* control = _control)
        {
            while (sent < total)
            {
                var iov = new SocketMessages.IoVector { Base = buffer + sent, Length = (nuint)(total - sent) };
                var header = new SocketMessages.MessageHeader { Vectors = &iov, VectorCount = 1 };
                if (sent == 0 && fds.Length > 0)
                {
                    header.Control = control;
                    header.ControlLength = (nuint)RightsControl.Write(control, fds);
                }
                long n = SocketMessages.SendMessage(_socket.Fd, &header, SocketMessages.MsgNoSignal);
                if (n < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error == Errno.EINTR) continue;
                    throw PosixError.Create("sendmsg", "the QEMU proxy link", error);
                }
                sent += (int)n;
            }
        }
    }

    /// <summary>Closes the socket (once a send or receive under way on another thread is done with it).</summary>
    public void Dispose() => _socket.Dispose();

    /// <summary>
    /// Holds the socket open for one call. On a disposed channel the call fails as the kernel would
    /// have failed it on the closed number (EBADF), an IOException the server loop already handles.
    /// </summary>
    private void AddSocketRef(string call)
    {
        if (!_socket.TryAddRef()) throw PosixError.Create(call, "the QEMU proxy link", Errno.EBADF);
    }

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes; collects fds into the message.</summary>
    private int ReceiveExactly(Span<byte> destination, int start, MpqemuMessage message, out bool eof)
    {
        int got = start;
        eof = false;
        fixed (byte* buffer = destination)
        fixed (byte* control = _control)
        {
            while (got < destination.Length)
            {
                var iov = new SocketMessages.IoVector { Base = buffer + got, Length = (nuint)(destination.Length - got) };
                var header = new SocketMessages.MessageHeader
                {
                    Vectors = &iov,
                    VectorCount = 1,
                    Control = control,
                    ControlLength = (nuint)_control.Length,
                };
                long n = SocketMessages.ReceiveMessage(_socket.Fd, &header, SocketMessages.MsgCmsgCloexec);
                if (n < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error == Errno.EINTR) continue;
                    if (error == Errno.ECONNRESET) { eof = true; return got; }
                    throw PosixError.Create("recvmsg", "the QEMU proxy link", error);
                }
                CollectFds(header.Flags, control, (long)header.ControlLength, message);
                if (n == 0) { eof = true; return got; }
                got += (int)n;
            }
        }
        return got;
    }

    /// <summary>
    /// Keeps every SCM_RIGHTS fd of the control data the kernel wrote; more than the message holds
    /// are closed on arrival and mark it truncated, as does MSG_CTRUNC (the kernel dropped some).
    /// </summary>
    private static void CollectFds(int flags, byte* control, long length, MpqemuMessage message)
    {
        if ((flags & SocketMessages.MsgCtrunc) != 0) message.FdsTruncated = true;
        message.Fds.Collect(control, length);
        if (message.Fds.Overflowed) message.FdsTruncated = true;
    }

    private static ReceiveStatus Corrupt(MpqemuMessage message)
    {
        message.CloseFds();
        return ReceiveStatus.Corrupt;
    }
}
