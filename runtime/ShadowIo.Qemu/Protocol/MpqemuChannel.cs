using ShadowIo.Qemu.Native;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Protocol;

/// <summary>What one receive produced.</summary>
public enum ReceiveStatus
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
public sealed unsafe class MpqemuChannel : IDisposable
{
    /// <summary>More than QEMU ever sends (8), so a peer that sends too many is seen, not truncated silently.</summary>
    public const int MaxReceivedFds = 16;

    private readonly byte[] _header = new byte[MpqemuWire.HeaderSize];
    private readonly byte[] _sendBuffer = new byte[MpqemuWire.HeaderSize + MpqemuWire.MaxPayloadSize];
    private readonly byte[] _control = new byte[CMSG_SPACE(sizeof(int) * MaxReceivedFds)];
    private int _fd;

    /// <summary>Takes ownership of a connected stream socket.</summary>
    public MpqemuChannel(int socketFd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(socketFd);
        _fd = socketFd;
    }

    public int Fd => _fd;

    /// <summary>Creates a connected pair: index 0 and 1 are interchangeable ends (no CLOEXEC, so a child can inherit one).</summary>
    public static (int First, int Second) CreateSocketPair(bool closeOnExec)
    {
        int* fds = stackalloc int[2];
        int type = SOCK_STREAM | (closeOnExec ? SOCK_CLOEXEC : 0);
        if (socketpair(AF_UNIX, type, 0, fds) != 0) throw PosixError.Create("socketpair", "the QEMU proxy link");
        return (fds[0], fds[1]);
    }

    /// <summary>Receives one message into <paramref name="message"/>.</summary>
    public ReceiveStatus Receive(MpqemuMessage message)
    {
        message.Clear();
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
        int sent = 0;
        fixed (byte* buffer = _sendBuffer)
        fixed (byte* control = _control)
        fixed (int* fdPtr = fds)
        {
            while (sent < total)
            {
                iovec iov = new() { iov_base = buffer + sent, iov_len = (size_t)(total - sent) };
                msghdr header = new() { msg_iov = &iov, msg_iovlen = 1 };
                if (sent == 0 && fds.Length > 0)
                {
                    int fdBytes = sizeof(int) * fds.Length;
                    header.msg_control = control;
                    int controlBytes = CMSG_SPACE(fdBytes);
                    header.msg_controllen = (socklen_t)controlBytes;
                    new Span<byte>(control, controlBytes).Clear();
                    cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
                    cmsg->cmsg_level = SOL_SOCKET;
                    cmsg->cmsg_type = SCM_RIGHTS;
                    cmsg->cmsg_len = (socklen_t)(uint)(ulong)CMSG_LEN(fdBytes);
                    Buffer.MemoryCopy(fdPtr, CMSG_DATA(cmsg), fdBytes, fdBytes);
                }
                long n = sendmsg(_fd, &header, MSG_NOSIGNAL);
                if (n < 0)
                {
                    if (errno == EINTR) continue;
                    throw PosixError.Create("sendmsg", "the QEMU proxy link");
                }
                sent += (int)n;
            }
        }
    }

    public void Dispose()
    {
        if (_fd >= 0) close(_fd);
        _fd = -1;
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
                iovec iov = new() { iov_base = buffer + got, iov_len = (size_t)(destination.Length - got) };
                msghdr header = new()
                {
                    msg_iov = &iov,
                    msg_iovlen = 1,
                    msg_control = control,
                    msg_controllen = (socklen_t)_control.Length,
                };
                long n = recvmsg(_fd, &header, MSG_CMSG_CLOEXEC);
                if (n < 0)
                {
                    int error = errno;
                    if (error == EINTR) continue;
                    if (error == ECONNRESET) { eof = true; return got; }
                    throw PosixError.Create("recvmsg", "the QEMU proxy link", error);
                }
                CollectFds(&header, message);
                if (n == 0) { eof = true; return got; }
                got += (int)n;
            }
        }
        return got;
    }

    private static void CollectFds(msghdr* header, MpqemuMessage message)
    {
        if ((header->msg_flags & MSG_CTRUNC) != 0) message.FdsTruncated = true;
        for (cmsghdr* cmsg = CMSG_FIRSTHDR(header); cmsg != null; cmsg = CMSG_NXTHDR(header, cmsg))
        {
            if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
            int count = (int)(((long)(uint)cmsg->cmsg_len - (long)(ulong)CMSG_LEN(0)) / sizeof(int));
            int* data = (int*)CMSG_DATA(cmsg);
            for (int i = 0; i < count; i++)
            {
                if (message.FdCount < message.FdBuffer.Length)
                    message.FdBuffer[message.FdCount++] = data[i];
                else
                {
                    close(data[i]);
                    message.FdsTruncated = true;
                }
            }
        }
    }

    private static ReceiveStatus Corrupt(MpqemuMessage message)
    {
        message.CloseFds();
        return ReceiveStatus.Corrupt;
    }
}
