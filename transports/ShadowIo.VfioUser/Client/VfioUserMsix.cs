using ShadowIo.Native;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Client;

/// <summary>
/// The eventfds this client handed the server for MSI-X vectors 0..<see cref="Count"/>−1 (SET_IRQS
/// DATA_EVENTFD|TRIGGER): the device signals one to raise its vector. A VMM injects the
/// vector's message into the guest; a test waits and counts.
/// </summary>
public sealed class VfioUserMsix : IDisposable
{
    private readonly EventFd[] _vectors;

    internal VfioUserMsix(EventFd[] vectors) => _vectors = vectors;

    /// <summary>The vectors enabled.</summary>
    public int Count => _vectors.Length;

    /// <summary>Reads and resets <paramref name="vector"/>'s eventfd: how many raises were pending.</summary>
    public ulong TakeSignals(int vector) => (uint)vector < (uint)_vectors.Length ? _vectors[vector].Drain() : 0;

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> (-1: for ever) until some vector is raised; false when none was.</summary>
    public unsafe bool Wait(int timeoutMilliseconds)
    {
        var fds = new pollfd[_vectors.Length];
        for (int i = 0; i < fds.Length; i++) fds[i] = new pollfd { fd = _vectors[i].Fd, events = POLLIN };
        fixed (pollfd* p = fds)
        {
            while (true)
            {
                int n = poll(p, (ulong_t)(ulong)fds.Length, timeoutMilliseconds);
                if (n >= 0) return n > 0;
                if (Errno.Current != Errno.EINTR) throw PosixError.Create("poll", "the MSI-X eventfds", Errno.Current);
            }
        }
    }

    /// <summary>Closes the eventfds (the server's copies stay open until it is told otherwise or goes).</summary>
    public void Dispose()
    {
        foreach (var fd in _vectors) fd.Dispose();
    }
}
