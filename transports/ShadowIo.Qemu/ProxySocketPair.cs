using ShadowIo.Qemu.Protocol;

namespace ShadowIo.Qemu;

/// <summary>
/// The link between a <see cref="QemuProxyServer"/> and QEMU: a connected AF_UNIX stream socket
/// pair. One end goes to the server's constructor, the other to QEMU's
/// <c>-device x-pci-proxy-dev,fd=N</c> (the fd must survive into the QEMU process).
/// </summary>
public static class ProxySocketPair
{
    /// <summary>Creates a connected pair; the two ends are interchangeable, named for how they are used.</summary>
    /// <param name="closeOnExec">
    /// Whether both fds get FD_CLOEXEC. With true, clear it on the QEMU end just before starting
    /// QEMU (so no other child inherits it); false leaves both inheritable.
    /// </param>
    /// <returns>Two open fds the caller owns: give <c>Server</c> to the server (which then owns it), close <c>Qemu</c> once QEMU has it.</returns>
    /// <exception cref="IOException">socketpair(2) failed (e.g. out of fds); the message names the errno.</exception>
    public static (int Server, int Qemu) Create(bool closeOnExec) => MpqemuChannel.CreateSocketPair(closeOnExec);
}
