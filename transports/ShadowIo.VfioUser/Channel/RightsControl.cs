using ShadowIo.Qemu.Native;

namespace ShadowIo.VfioUser.Channel;

/// <summary>
/// SCM_RIGHTS control data in the glibc x86_64 layout of <see cref="SocketMessages"/>: written for a
/// send, walked after a receive. The walk stays within the <c>msg_controllen</c> the kernel
/// returned, so a message without fds never picks up stale bytes of the buffer.
/// </summary>
/// <remarks>The QEMU proxy transport's MpqemuChannel walks control data the same way in its own
/// code; both belong beside SocketMessages in the runtime's native layer.</remarks>
internal static unsafe class RightsControl
{
    /// <summary>The control buffer for up to <paramref name="fds"/> descriptors (CMSG_SPACE).</summary>
    public static int BufferSize(int fds) => SocketMessages.ControlSpace(sizeof(int) * fds);

    /// <summary>Writes one SCM_RIGHTS message carrying <paramref name="fds"/> and returns its length (msg_controllen).</summary>
    public static int Write(byte* control, ReadOnlySpan<int> fds)
    {
        int fdBytes = sizeof(int) * fds.Length;
        int length = SocketMessages.ControlSpace(fdBytes);
        new Span<byte>(control, length).Clear();
        *(ulong*)control = (ulong)SocketMessages.ControlLength(fdBytes);
        *(int*)(control + 8) = SocketMessages.SolSocket;
        *(int*)(control + 12) = SocketMessages.ScmRights;
        fds.CopyTo(new Span<int>(control + SocketMessages.ControlHeaderSize, fds.Length));
        return length;
    }

    /// <summary>
    /// Hands every fd of every SCM_RIGHTS message in the first <paramref name="length"/> bytes to
    /// <paramref name="received"/> (which owns them from then on). A header whose length runs past
    /// the data ends the walk: the kernel never writes one, so nothing after it is trusted.
    /// </summary>
    public static void Collect(byte* control, long length, ReceivedFds received)
    {
        const int headerSize = SocketMessages.ControlHeaderSize;
        long offset = 0;
        while (offset + headerSize <= length)
        {
            long messageLength = (long)*(ulong*)(control + offset);
            int level = *(int*)(control + offset + 8);
            int type = *(int*)(control + offset + 12);
            if (messageLength < headerSize || messageLength > length - offset)
                break;
            if (level == SocketMessages.SolSocket && type == SocketMessages.ScmRights)
            {
                int* data = (int*)(control + offset + headerSize);
                long count = (messageLength - headerSize) / sizeof(int);
                for (long i = 0; i < count; i++)
                    received.Add(data[i]);
            }
            offset += (messageLength + 7) & ~7L;
        }
    }
}
