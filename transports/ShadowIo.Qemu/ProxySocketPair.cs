using ShadowIo.Native;
using ShadowIo.Qemu.Protocol;

namespace ShadowIo.Qemu;

/// <summary>
/// The link between a <see cref="QemuProxyServer"/> and QEMU: a connected AF_UNIX stream socket
/// pair, both ends owned here until handed on. The server end goes to the server's constructor;
/// QEMU's end is inherited by the QEMU process (<c>-device x-pci-proxy-dev,fd=N</c> with
/// N = <see cref="QemuFd"/>) and closed here once QEMU has it.
/// </summary>
/// <remarks>
/// Both ends are close-on-exec, so no other child this process starts inherits them; the
/// process that starts QEMU clears FD_CLOEXEC on <see cref="QemuFd"/> in the child only (as
/// <c>LinuxGuestOptions.InheritedFds</c> does). Close QEMU's end when QEMU has exited or has
/// its copy: while this process keeps it open, the server never sees the link end.
/// </remarks>
public sealed class ProxySocketPair : IDisposable
{
    private FileDescriptorHandle? _server;
    private readonly FileDescriptorHandle _qemu;

    private ProxySocketPair(FileDescriptorHandle server, FileDescriptorHandle qemu)
    {
        _server = server;
        _qemu = qemu;
    }

    /// <summary>Creates a connected, close-on-exec pair.</summary>
    /// <exception cref="IOException">socketpair(2) failed (e.g. out of fds); the message names the errno.</exception>
    public static ProxySocketPair Create()
    {
        var (server, qemu) = MpqemuChannel.CreateSocketPair();
        return new ProxySocketPair(server, qemu);
    }

    /// <summary>QEMU's end, for its command line and for the spawn to inherit; -1 once closed.</summary>
    public int QemuFd => _qemu.Fd;

    /// <summary>Closes this process's copy of QEMU's end (idempotent).</summary>
    public void CloseQemuEnd() => _qemu.Dispose();

    /// <summary>Moves the server end to a server, which owns it from then on.</summary>
    /// <exception cref="InvalidOperationException">A server already took it.</exception>
    internal FileDescriptorHandle TakeServerEnd() =>
        Interlocked.Exchange(ref _server, null) ?? throw new InvalidOperationException("The proxy link's server end was given to a server already.");

    /// <summary>Closes whatever end is still here: QEMU's, and the server's if no server took it.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _server, null)?.Dispose();
        _qemu.Dispose();
    }
}
