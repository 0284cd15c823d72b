using ShadowIo.Native;
using ShadowIo.VfioUser.Channel;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Channel;

/// <summary>A channel on one end of a socketpair and the raw other end, to play a broken peer byte by byte.</summary>
internal sealed unsafe class RawPeer : IDisposable
{
    private int _raw;

    public RawPeer()
    {
        int* fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
            throw new IOException("socketpair failed");
        Channel = new VfioUserChannel(new FileDescriptorHandle(fds[0]));
        _raw = fds[1];
    }

    public VfioUserChannel Channel { get; }

    /// <summary>One sendmsg of <paramref name="bytes"/> with <paramref name="fds"/> attached.</summary>
    public void Send(ReadOnlySpan<byte> bytes, params ReadOnlySpan<int> fds)
    {
        var control = stackalloc byte[RightsControl.BufferSize(Math.Max(fds.Length, 1))];
        fixed (byte* data = bytes)
        {
            var vector = new SocketMessages.IoVector { Base = data, Length = (nuint)bytes.Length };
            var message = new SocketMessages.MessageHeader { Vectors = &vector, VectorCount = 1 };
            if (!fds.IsEmpty)
            {
                message.Control = control;
                message.ControlLength = (nuint)RightsControl.Write(control, fds);
            }
            if (SocketMessages.SendMessage(_raw, &message, SocketMessages.MsgNoSignal) != bytes.Length)
                throw new IOException($"sendmsg failed: errno {errno}");
        }
    }

    /// <summary>Closes the raw end (the channel then sees end-of-stream).</summary>
    public void CloseRaw()
    {
        if (_raw >= 0)
            close(_raw);
        _raw = -1;
    }

    public void Dispose()
    {
        CloseRaw();
        Channel.Dispose();
    }
}
