using System.Runtime.InteropServices;
using System.Text;
using ShadowIo.Native;
using ShadowIo.VfioUser.Protocol;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Channel;

/// <summary>
/// The server's listening AF_UNIX socket at a path (what QEMU's <c>vfio-user-pci,socket=…</c>
/// connects to). The path is unlinked again on disposal.
/// </summary>
internal sealed unsafe partial class VfioUserListener : IDisposable
{
    /// <summary>sizeof(sockaddr_un.sun_path).</summary>
    private const int MaxPathBytes = 108;

    private const short POLLIN = 1;

    private readonly FileDescriptorHandle _socket;

    private VfioUserListener(FileDescriptorHandle socket, string path)
    {
        _socket = socket;
        Path = path;
    }

    /// <summary>Where it listens.</summary>
    public string Path { get; }

    /// <summary>Binds and listens at <paramref name="path"/> (which must not exist, and fit sockaddr_un's 107 bytes).</summary>
    public static VfioUserListener Listen(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= MaxPathBytes)
            throw new ArgumentException($"a UNIX socket path holds at most {MaxPathBytes - 1} bytes; {path} has {bytes.Length}.", nameof(path));
        var socket = new FileDescriptorHandle(Tmds.Linux.LibC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (socket.IsInvalid)
            throw Error("socket", path);
        try
        {
            // struct sockaddr_un: sa_family_t (u16) then the NUL-terminated path.
            var address = stackalloc byte[2 + MaxPathBytes];
            new Span<byte>(address, 2 + MaxPathBytes).Clear();
            *(ushort*)address = (ushort)AF_UNIX;
            bytes.CopyTo(new Span<byte>(address + 2, bytes.Length));
            if (Bind(socket.Fd, address, (uint)(2 + bytes.Length + 1)) != 0)
                throw Error("bind", path);
            if (ListenOn(socket.Fd, 1) != 0)
                throw Error("listen", path);
            return new VfioUserListener(socket, path);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects to a server listening at <paramref name="path"/> (the client side): a stream socket,
    /// close-on-exec, as a channel receiving up to <paramref name="maxReceiveFds"/> fds a message.
    /// </summary>
    /// <exception cref="IOException">No server listens there (ENOENT, ECONNREFUSED), or the socket failed.</exception>
    public static VfioUserChannel Connect(string path, int maxSendFds, int maxReceiveFds)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= MaxPathBytes)
            throw new ArgumentException($"a UNIX socket path holds at most {MaxPathBytes - 1} bytes; {path} has {bytes.Length}.", nameof(path));
        var socket = new FileDescriptorHandle(Tmds.Linux.LibC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (socket.IsInvalid)
            throw Error("socket", path);
        try
        {
            var address = stackalloc byte[2 + MaxPathBytes];
            new Span<byte>(address, 2 + MaxPathBytes).Clear();
            *(ushort*)address = (ushort)AF_UNIX;
            bytes.CopyTo(new Span<byte>(address + 2, bytes.Length));
            int rc;
            do rc = ConnectTo(socket.Fd, address, (uint)(2 + bytes.Length + 1));
            while (rc != 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
            if (rc != 0)
                throw Error("connect", path);
            return new VfioUserChannel(socket, maxSendFds, maxReceiveFds);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a client and returns its channel, or null when none came.</summary>
    public VfioUserChannel? Accept(TimeSpan timeout, int maxSendFds = ProtocolLimits.LargestMaxMessageFds)
    {
        var wait = new PollFd { Fd = _socket.Fd, Events = POLLIN };
        int ready;
        do ready = Poll(&wait, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        while (ready < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (ready < 0)
            throw Error("poll", Path);
        if (ready == 0)
            return null;
        var client = new FileDescriptorHandle(Accept4(_socket.Fd, null, null, SOCK_CLOEXEC));
        if (client.IsInvalid)
            throw Error("accept4", Path);
        return new VfioUserChannel(client, maxSendFds);
    }

    /// <summary>Closes the socket and removes its path.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
        }
    }

    private static IOException Error(string call, string path)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} failed for the vfio-user socket {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int socket, byte* address, uint addressLength);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static partial int ConnectTo(int socket, byte* address, uint addressLength);

    [LibraryImport("libc", EntryPoint = "listen", SetLastError = true)]
    private static partial int ListenOn(int socket, int backlog);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    private static partial int Accept4(int socket, byte* address, uint* addressLength, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, ulong count, int timeoutMilliseconds);
}
