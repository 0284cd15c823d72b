using ShadowIo.Native;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Server;

/// <summary>
/// Serves one PCI function to a vfio-user client (QEMU's <c>vfio-user-pci</c>, or our own VMM)
/// over a UNIX stream socket: the device side of QEMU's docs/interop/vfio-user.rst.
/// </summary>
/// <remarks>
/// <para>One dedicated thread answers every message in order (QEMU waits at most 5 s for a
/// reply, <c>x-msg-timeout</c>): config space through the shared <see cref="PciConfigSpace"/>,
/// BARs through the device's generated dispatch, with doorbell writes going through the
/// <see cref="DoorbellSet"/>'s trap path (value into the shadow page, then the row's eventfd),
/// as a KVM exit in trap mode would.</para>
/// <para>What the client sends is hostile input: every length, count, fd, region index and DMA
/// range is checked by the codec and here, and a bad request gets an error reply with a
/// positive errno, never an exception out of the loop. A message with NO_REPLY never gets a
/// reply, not even an error (QEMU would lose its framing). Received fds are owned by
/// <see cref="FileDescriptorHandle"/>s from the moment they arrive; what a handler does not
/// keep is closed before the next message. Only a stream that can no longer be framed ends the
/// connection.</para>
/// </remarks>
public sealed partial class VfioUserServer : IDisposable
{
    /// <summary>SCM_MAX_FD: the most fds Linux passes in one message; GET_REGION_IO_FDS replies may need many.</summary>
    private const int MaxSendFds = 253;

    /// <summary>The max_dma_maps offered (QEMU proposes 65535 and maps far fewer).</summary>
    internal const int MaxDmaMaps = 65535;

    /// <summary>What this server accepts: QEMU's largest max_msg_fds (SET_IRQS chunks), the default transfer size.</summary>
    internal static readonly ProtocolLimits Limits = new(ProtocolLimits.DefaultMaxDataTransferSize, ProtocolLimits.LargestMaxMessageFds);

    private readonly PciFunction _function;
    private readonly Action<string>? _log;
    private readonly EventFd _wake;
    private readonly ReceivedMessage _message = new(Limits);
    private readonly byte[] _reply = new byte[Limits.MaxMessageSize];
    private readonly int[] _replyFds = new int[MaxSendFds];
    private readonly DmaMapTable _dma;
    private VfioUserChannel? _channel;
    private Thread? _thread;
    private volatile bool _stopping;

    /// <summary>Builds the server for <paramref name="function"/>; nothing is served until <see cref="Serve(string)"/>.</summary>
    /// <param name="function">What to serve: identity, BARs, MSI-X, reset action; validated here.</param>
    /// <param name="memory">Where client memory is published (a device built before the server gets the same instance); a new one when null.</param>
    /// <param name="log">Receives one line per refused message and link event, on the server thread; null for silence.</param>
    /// <exception cref="ArgumentException">A BAR or the MSI-X placement of <paramref name="function"/> is invalid.</exception>
    public VfioUserServer(PciFunction function, GuestMemory? memory = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        _function = function;
        ConfigSpace = new PciConfigSpace(function.Identity, function.Bars, function.Msix, function.Capabilities);
        GuestMemory = memory ?? new GuestMemory();
        _dma = new DmaMapTable(GuestMemory, MaxDmaMaps);
        Interrupts = new VfioUserInterrupts(function.Identity.InterruptPin != 0, function.Msix?.VectorCount ?? 0);
        _log = log;
        _wake = EventFd.Create("the vfio-user server's wake event");
    }

    /// <summary>Client memory as the client mapped it; devices reach it only through here.</summary>
    public GuestMemory GuestMemory { get; }

    /// <summary>The function's configuration space as the client and guest programmed it.</summary>
    public PciConfigSpace ConfigSpace { get; }

    /// <summary>The function's interrupts (a device raises MSI-X vectors or INTx here).</summary>
    public VfioUserInterrupts Interrupts { get; }

    /// <summary>What crossed the link so far.</summary>
    public VfioUserStatistics Statistics { get; } = new();

    /// <summary>DMA maps in force (the server thread changes them; read it for diagnostics).</summary>
    public int DmaMapCount => _dma.Count;

    /// <summary>Why the loop ended: null while running or after a clean close by the client.</summary>
    public string? EndReason { get; private set; }

    /// <summary>
    /// Listens at <paramref name="socketPath"/> (which must not exist), accepts one client on the
    /// server thread and serves it until it disconnects or <see cref="Stop"/>; the task completes then.
    /// The socket path is removed once the client is connected (or the server stops first).
    /// </summary>
    public Task Serve(string socketPath)
    {
        var listener = VfioUserListener.Listen(socketPath);
        return StartThread(() =>
        {
            using (listener)
            {
                while (!_stopping && _channel == null)
                    _channel = listener.Accept(TimeSpan.FromMilliseconds(200), MaxSendFds);
            }
            if (_channel != null) Run(_channel);
        });
    }

    /// <summary>Serves a client already connected on <paramref name="channel"/> (tests, a socketpair), on the server thread.</summary>
    internal Task Serve(VfioUserChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _channel = channel;
        return StartThread(() => Run(channel));
    }

    /// <summary>Serves <paramref name="channel"/> on the calling thread until the stream ends (the fuzz target: no thread, no timing).</summary>
    internal void ServeOnCallingThread(VfioUserChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        if (_thread != null || _channel != null) throw new InvalidOperationException("The server is already running.");
        _channel = channel;
        Run(channel);
    }

    /// <summary>Makes the loop return after the message it is handling.</summary>
    public void Stop()
    {
        _stopping = true;
        _wake.Signal();
    }

    /// <summary>Stops the loop and waits for its thread, then closes the socket, the interrupt eventfds and every DMA mapping.</summary>
    public void Dispose()
    {
        Stop();
        if (_thread != null && _thread != Thread.CurrentThread) _thread.Join();
        _channel?.Dispose();
        _message.Dispose();
        Interrupts.Dispose();
        _dma.Dispose();
        _wake.Dispose();
    }

    private Task StartThread(Action body)
    {
        if (_thread != null) throw new InvalidOperationException("The server is already running.");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "vfio-user-server" };
        _thread.Start();
        return done.Task;
    }

    private void Run(VfioUserChannel channel)
    {
        while (!_stopping)
        {
            if (!WaitForInput(channel)) continue;
            var status = channel.Receive(_message);
            if (status == ReceiveStatus.Closed)
            {
                _log?.Invoke("the vfio-user client closed the link.");
                return;
            }
            if (status == ReceiveStatus.Corrupt)
            {
                EndReason = "the stream can no longer be framed (it ended inside a message, or msg_size was below 16); link closed";
                _log?.Invoke(EndReason);
                return;
            }
            Interlocked.Increment(ref Statistics.MessagesField);
            var header = _message.Header;
            try
            {
                if (status == ReceiveStatus.Rejected)
                {
                    Refuse(channel, header, _message.Error, $"refused by the channel (errno {_message.Error})");
                    continue;
                }
                if (header.IsReply)
                {
                    // This server sends no commands, so a reply answers nothing: dropped, never answered.
                    _log?.Invoke($"unexpected reply to message {header.MessageId} ({header.Command}); dropped");
                    continue;
                }
                Dispatch(channel, header);
            }
            catch (IOException e)
            {
                EndReason = $"the reply could not be sent: {e.Message}";
                _log?.Invoke(EndReason);
                return;
            }
            finally
            {
                _message.Fds.CloseAll();
                _dma.ReleaseRetired();
            }
        }
    }

    private unsafe bool WaitForInput(VfioUserChannel channel)
    {
        pollfd* fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = channel.Fd, events = POLLIN };
        fds[1] = new pollfd { fd = _wake.Fd, events = POLLIN };
        // Wake now and then to unmap retired DMA mappings even on a quiet link.
        int n = poll(fds, 2, 1000);
        if (n < 0)
        {
            int error = Errno.Current;
            if (error == Errno.EINTR) return false;
            throw PosixError.Create("poll", "the vfio-user link", error);
        }
        if ((fds[1].revents & POLLIN) != 0) _wake.Drain();
        if (n == 0) _dma.ReleaseRetired();
        // Hang-up and error still go to recvmsg, which reports the close.
        return fds[0].revents != 0;
    }

    /// <summary>Answers a refused request with its errno (only a log line for a posted one).</summary>
    private void Refuse(VfioUserChannel channel, in MessageHeader header, int errno, string why)
    {
        Interlocked.Increment(ref Statistics.ErrorRepliesField);
        _log?.Invoke($"vfio-user {header.Command} (message {header.MessageId}) refused with errno {errno}: {why}");
        if (header.NoReply || header.IsReply) return;
        if (!channel.SendError(header, errno)) throw new IOException("the client has gone");
    }
}
