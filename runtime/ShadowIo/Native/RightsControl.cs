using static Tmds.Linux.LibC;

namespace ShadowIo.Native;

/// <summary>
/// SCM_RIGHTS control data (unix(7), cmsg(3)) in the glibc x86_64 layout of
/// <see cref="SocketMessages"/>: written for a send, walked after a receive, for every transport
/// that passes fds over a UNIX socket (vfio-user).
/// </summary>
/// <remarks>
/// The walk is by hand within the <c>msg_controllen</c> the kernel returned, so a message without
/// fds never picks up stale bytes of the buffer. The kernel has installed every fd it reports in
/// this process already (close-on-exec with MSG_CMSG_CLOEXEC): an fd the caller has no room for is
/// closed here, at once, so a peer sending too many cannot leak one.
/// </remarks>
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
    /// Stores every fd of every SCM_RIGHTS message in the first <paramref name="length"/> bytes of
    /// <paramref name="control"/> in <paramref name="destination"/>, in order, and returns how many
    /// it stored: the caller owns those from then on. Fds past the destination's room are closed and
    /// set <paramref name="overflowed"/>. A header whose length runs past the data ends the walk: the
    /// kernel never writes one, so nothing after it is trusted.
    /// </summary>
    public static int Collect(byte* control, long length, Span<int> destination, out bool overflowed)
    {
        const int headerSize = SocketMessages.ControlHeaderSize;
        int stored = 0;
        overflowed = false;
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
                {
                    if (stored < destination.Length)
                    {
                        destination[stored++] = data[i];
                    }
                    else
                    {
                        close(data[i]);
                        overflowed = true;
                    }
                }
            }
            offset += (messageLength + 7) & ~7L;
        }
        return stored;
    }
}
