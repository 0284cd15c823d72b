using ShadowIo.Native;
using ShadowIo.Qemu.Interrupts;
using ShadowIo.Qemu.Memory;
using ShadowIo.Pci;
using ShadowIo.Qemu.Protocol;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu;

/// <summary>
/// Serves one PCI function to QEMU 7.2's <c>x-pci-proxy-dev</c> over a connected AF_UNIX
/// stream socket: the remote half of QEMU's multi-process protocol (hw/remote/message.c).
/// </summary>
/// <remarks>
/// <para>One thread runs the loop: it waits (poll) on the socket, the INTx resample eventfd and
/// a wake eventfd; every config and BAR request is answered synchronously with RET, as the
/// proxy's vCPU thread blocks on the reply.</para>
/// <para>Everything QEMU sends is treated as untrusted input (a guest steers most of it):
/// a malformed request that expects a reply gets RET with all ones (what the proxy reports
/// as failure, and what a master abort reads as); fds on messages that should carry none are
/// closed; only a stream that can no longer be framed (oversized or truncated message) ends
/// the connection. No exception from a message escapes the loop.</para>
/// </remarks>
public sealed partial class QemuProxyServer : IDisposable
{
    private readonly MpqemuChannel _channel;
    private readonly MpqemuMessage _message = new();
    private readonly PciFunction _function;
    private readonly Action<string>? _log;
    private readonly EventFd _wake;
    private readonly SysmemRegion[] _sysmemRegions = new SysmemRegion[MpqemuWire.MaxFds];
    private Thread? _thread;
    private volatile bool _stopping;

    /// <summary>
    /// Builds the server for <paramref name="function"/> on a connected socket; nothing is read
    /// until <see cref="Start"/> or <see cref="Run"/>.
    /// </summary>
    /// <param name="link">
    /// The socket pair whose other end QEMU's <c>x-pci-proxy-dev</c> inherits; the server takes the
    /// server end (and closes it on <see cref="Dispose"/>), the caller keeps the pair for QEMU's end.
    /// </param>
    /// <param name="function">What to serve: identity, BARs and reset action; its BARs are validated here.</param>
    /// <param name="log">Receives one line per rejected message and link event, on the server thread; null for silence.</param>
    /// <exception cref="ArgumentException">
    /// A BAR of <paramref name="function"/> is invalid (index, size, duplicate, smaller than its
    /// doorbell block), is a 64-bit BAR, or the function has MSI-X: QEMU 7.2's proxy mis-sizes
    /// 64-bit BARs and delivers no MSI-X.
    /// </exception>
    /// <exception cref="InvalidOperationException">Another server took <paramref name="link"/>'s server end already.</exception>
    /// <param name="memory">
    /// Where guest RAM is published (a device built before the server gets the same instance);
    /// a new one when null.
    /// </param>
    public QemuProxyServer(ProxySocketPair link, PciFunction function, Action<string>? log = null, GuestMemory? memory = null)
        : this(TakeServerEnd(link), function, log, memory)
    {
    }

    /// <summary>The server on one end of a socket pair (tests and the fuzzer play QEMU on the other); owns <paramref name="socket"/>, closed on failure too.</summary>
    internal QemuProxyServer(FileDescriptorHandle socket, PciFunction function, Action<string>? log = null, GuestMemory? memory = null)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(function);
            if (function.Msix != null)
                throw new ArgumentException("QEMU 7.2's proxy delivers no MSI-X; serve the function without it (INTx).", nameof(function));
            foreach (var bar in function.Bars)
            {
                if (bar?.Kind == PciBarKind.Memory64)
                    throw new ArgumentException($"BAR{bar.Index} is 64-bit; QEMU 7.2's proxy sizes it as a 32-bit BAR plus a bogus I/O BAR. Use PciBarKind.Memory32.", nameof(function));
            }
            ConfigSpace = new PciConfigSpace(function.Identity, function.Bars);
            _wake = EventFd.Create("the QEMU proxy server's wake event");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _function = function;
        _log = log;
        _channel = new MpqemuChannel(socket);
        GuestMemory = memory ?? new GuestMemory();
        RamMapper = new GuestRamMapper(GuestMemory, log);
        Interrupt = new IntxLine();
        // Runs on the device's thread, in order under the line's lock; config space takes its own
        // lock, so the server thread's reads see each level change whole (PciConfigSpace remarks).
        Interrupt.LevelChanged += ConfigSpace.SetInterruptStatus;
    }

    private static FileDescriptorHandle TakeServerEnd(ProxySocketPair link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return link.TakeServerEnd();
    }

    /// <summary>Guest RAM as QEMU last described it; devices reach guest memory only through it.</summary>
    public GuestMemory GuestMemory { get; }

    /// <summary>Maps the guest RAM QEMU shares (SYNC_SYSMEM) into <see cref="GuestMemory"/>; its counters show what it did.</summary>
    public GuestRamMapper RamMapper { get; }

    /// <summary>The function's configuration space as the guest programmed it; a device reads command bits and BAR bases from it.</summary>
    public PciConfigSpace ConfigSpace { get; }

    /// <summary>The function's INTx pin (the device raises and lowers it).</summary>
    public IntxLine Interrupt { get; }

    /// <summary>What crossed the link so far; readable from any thread.</summary>
    public ProxyStatistics Statistics { get; } = new();

    /// <summary>Why the loop ended: null while running or after a clean close by QEMU.</summary>
    public string? EndReason { get; private set; }

    /// <summary>Starts the loop on its own thread; the task completes when the link closes or <see cref="Stop"/> is called.</summary>
    public Task Start()
    {
        if (_thread != null) throw new InvalidOperationException("The server is already running.");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() =>
        {
            try
            {
                Run();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "qemu-proxy-server" };
        _thread.Start();
        return done.Task;
    }

    /// <summary>Runs the loop on the calling thread until QEMU closes the link or <see cref="Stop"/>.</summary>
    public void Run()
    {
        while (!_stopping)
        {
            if (!WaitForInput(out bool socketReady)) continue;
            if (!socketReady) continue;
            var status = _channel.Receive(_message);
            if (status == ReceiveStatus.Closed)
            {
                _log?.Invoke("QEMU closed the proxy link.");
                return;
            }
            if (status == ReceiveStatus.Corrupt)
            {
                EndReason = $"unframeable message (command {_message.Command}, announced size over {MpqemuWire.MaxPayloadSize} or truncated); link closed";
                _log?.Invoke(EndReason);
                Statistics.RejectedField++;
                return;
            }
            try
            {
                Dispatch(_message);
            }
            catch (IOException e)
            {
                // The reply could not be sent: the link is gone.
                EndReason = e.Message;
                _log?.Invoke($"proxy link failed: {e.Message}");
                return;
            }
            finally
            {
                _message.CloseFds();
            }
        }
    }

    /// <summary>Makes the loop return after the message it is handling.</summary>
    public void Stop()
    {
        _stopping = true;
        _wake.Signal();
    }

    /// <summary>
    /// Stops the loop and waits for its thread (unless called on it), then closes the socket, the
    /// interrupt eventfds and every guest RAM mapping.
    /// </summary>
    public void Dispose()
    {
        Stop();
        if (_thread != null && _thread != Thread.CurrentThread) _thread.Join();
        _channel.Dispose();
        Interrupt.Dispose();
        RamMapper.Dispose();
        _wake.Dispose();
    }

    private unsafe bool WaitForInput(out bool socketReady)
    {
        pollfd* fds = stackalloc pollfd[3];
        fds[0] = new pollfd { fd = _channel.Fd, events = POLLIN };
        fds[1] = new pollfd { fd = _wake.Fd, events = POLLIN };
        fds[2] = new pollfd { fd = Interrupt.ResampleFd, events = POLLIN };
        int n = poll(fds, 3, -1);
        socketReady = false;
        if (n < 0)
        {
            int error = Errno.Current;
            if (error == Errno.EINTR) return false;
            throw PosixError.Create("poll", "the QEMU proxy link", error);
        }
        if ((fds[2].revents & POLLIN) != 0) Interrupt.OnResample();
        if ((fds[1].revents & POLLIN) != 0) _wake.Drain();
        // Hang-up and error still go to recvmsg, which reports the close.
        socketReady = fds[0].revents != 0;
        return true;
    }
}
