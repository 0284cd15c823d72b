using ShadowIo.Qemu.Interrupts;
using ShadowIo.Qemu.Memory;
using ShadowIo.Qemu.Native;
using ShadowIo.Qemu.Pci;
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
public sealed class QemuProxyServer : IDisposable
{
    private readonly MpqemuChannel _channel;
    private readonly MpqemuMessage _message = new();
    private readonly PciFunction _function;
    private readonly Action<string>? _log;
    private readonly int _wakeFd;
    private readonly SysmemRegion[] _sysmemRegions = new SysmemRegion[MpqemuWire.MaxFds];
    private Thread? _thread;
    private volatile bool _stopping;

    /// <param name="socketFd">Connected stream socket; the server owns it from now on.</param>
    /// <param name="memory">
    /// Where guest RAM is published (a device built before the server gets the same instance);
    /// a new one when null.
    /// </param>
    public QemuProxyServer(int socketFd, PciFunction function, Action<string>? log = null, GuestMemory? memory = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        _function = function;
        ConfigSpace = new PciConfigSpace(function.Identity, function.Bars);
        _log = log;
        _channel = new MpqemuChannel(socketFd);
        _wakeFd = FileDescriptors.CreateEventFd();
        GuestMemory = memory ?? new GuestMemory();
        RamMapper = new GuestRamMapper(GuestMemory, log);
        Interrupt = new IntxLine();
        Interrupt.LevelChanged += ConfigSpace.SetInterruptStatus;
    }

    /// <summary>Guest RAM as QEMU last described it; devices reach guest memory only through it.</summary>
    public GuestMemory GuestMemory { get; }

    public GuestRamMapper RamMapper { get; }

    public PciConfigSpace ConfigSpace { get; }

    /// <summary>The function's INTx pin (the device raises and lowers it).</summary>
    public IntxLine Interrupt { get; }

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
        FileDescriptors.SignalEventFd(_wakeFd);
    }

    public void Dispose()
    {
        Stop();
        if (_thread != null && _thread != Thread.CurrentThread) _thread.Join();
        _channel.Dispose();
        Interrupt.Dispose();
        RamMapper.Dispose();
        close(_wakeFd);
    }

    private unsafe bool WaitForInput(out bool socketReady)
    {
        pollfd* fds = stackalloc pollfd[3];
        fds[0] = new pollfd { fd = _channel.Fd, events = POLLIN };
        fds[1] = new pollfd { fd = _wakeFd, events = POLLIN };
        fds[2] = new pollfd { fd = Interrupt.ResampleFd, events = POLLIN };
        int n = poll(fds, 3, -1);
        socketReady = false;
        if (n < 0)
        {
            if (errno == EINTR) return false;
            throw PosixError.Create("poll", "the QEMU proxy link");
        }
        if ((fds[2].revents & POLLIN) != 0) Interrupt.OnResample();
        if ((fds[1].revents & POLLIN) != 0) FileDescriptors.DrainEventFd(_wakeFd);
        // Hang-up and error still go to recvmsg, which reports the close.
        socketReady = fds[0].revents != 0;
        return true;
    }

    private void Dispatch(MpqemuMessage message)
    {
        switch ((MpqemuCommand)message.Command)
        {
            case MpqemuCommand.PciConfigRead: HandleConfigRead(message); break;
            case MpqemuCommand.PciConfigWrite: HandleConfigWrite(message); break;
            case MpqemuCommand.BarRead: HandleBarRead(message); break;
            case MpqemuCommand.BarWrite: HandleBarWrite(message); break;
            case MpqemuCommand.SyncSysmem: HandleSyncSysmem(message); break;
            case MpqemuCommand.SetIrqfd: HandleSetIrqfd(message); break;
            case MpqemuCommand.DeviceReset: HandleDeviceReset(message); break;
            default:
                // Nothing waits for a reply to a command QEMU never sends; answering would
                // desynchronise the next real request, so drop it.
                Reject(message, "unknown command; dropped");
                break;
        }
    }

    private void HandleConfigRead(MpqemuMessage message)
    {
        Statistics.ConfigReadsField++;
        if (!ExpectPayload(message, MpqemuWire.ConfigAccessSize, fds: 0)) { _channel.SendReturn(MpqemuWire.ErrorValue); return; }
        var access = ConfigAccess.Parse(message.Payload);
        if (!PciConfigSpace.IsValidAccess(access.Address, access.Length))
        {
            Reject(message, $"config read of {access.Length} bytes at 0x{access.Address:x}");
            _channel.SendReturn(MpqemuWire.ErrorValue);
            return;
        }
        _channel.SendReturn(ConfigSpace.Read(access.Address, access.Length));
    }

    private void HandleConfigWrite(MpqemuMessage message)
    {
        Statistics.ConfigWritesField++;
        if (!ExpectPayload(message, MpqemuWire.ConfigAccessSize, fds: 0)) { _channel.SendReturn(MpqemuWire.ErrorValue); return; }
        var access = ConfigAccess.Parse(message.Payload);
        if (!ConfigSpace.Write(access.Address, access.Value, access.Length))
        {
            Reject(message, $"config write of {access.Length} bytes at 0x{access.Address:x}");
            _channel.SendReturn(MpqemuWire.ErrorValue);
            return;
        }
        Interrupt.SetMasked(ConfigSpace.InterruptDisabled);
        _channel.SendReturn(0);
    }

    private void HandleBarRead(MpqemuMessage message)
    {
        Statistics.BarReadsField++;
        if (!TryRouteBar(message, out var access, out var bar, out ulong offset))
        {
            _channel.SendReturn(MpqemuWire.ErrorValue);
            return;
        }
        _channel.SendReturn(bar.Device.ReadMmio(offset, (int)access.Size));
    }

    private void HandleBarWrite(MpqemuMessage message)
    {
        Statistics.BarWritesField++;
        if (!TryRouteBar(message, out var access, out var bar, out ulong offset))
        {
            _channel.SendReturn(MpqemuWire.ErrorValue);
            return;
        }
        // The proxy's vCPU waits for this RET before the guest's store retires, so the order
        // guest store → shadow/register update → eventfd is the same as a KVM exit.
        var doorbells = bar.Doorbells;
        if (doorbells != null && doorbells.Table.TryFind(offset, out _)) Statistics.DoorbellWritesField++;
        if (doorbells == null || !doorbells.TryHandleWrite(offset, (int)access.Size, access.Value))
            bar.Device.WriteMmio(offset, (int)access.Size, access.Value);
        _channel.SendReturn(0);
    }

    private bool TryRouteBar(MpqemuMessage message, out BarAccess access, out PciBar bar, out ulong offset)
    {
        access = default;
        bar = null!;
        offset = 0;
        if (!ExpectPayload(message, MpqemuWire.BarAccessSize, fds: 0)) return false;
        access = BarAccess.Parse(message.Payload);
        if (access.Size is not (1 or 2 or 4 or 8))
        {
            Reject(message, $"BAR access of {access.Size} bytes at 0x{access.Address:x}");
            return false;
        }
        if (!ConfigSpace.TryRoute(access.Address, access.Size, access.IsMemory, out bar, out offset))
        {
            Reject(message, $"BAR access at {(access.IsMemory ? "gpa" : "port")} 0x{access.Address:x} is outside every BAR");
            return false;
        }
        return true;
    }

    private void HandleSyncSysmem(MpqemuMessage message)
    {
        Statistics.MemorySyncsField++;
        // No reply: the proxy's memory listener does not wait.
        if (message.PayloadSize != MpqemuWire.SyncSysmemSize || message.FdCount > MpqemuWire.MaxFds || message.FdsTruncated)
        {
            Reject(message, $"SYNC_SYSMEM with {message.PayloadSize}-byte payload and {message.FdCount} fds; memory map kept");
            return;
        }
        int count = message.FdCount;
        Span<int> fds = stackalloc int[count];
        for (int i = 0; i < count; i++)
        {
            _sysmemRegions[i] = SysmemLayout.Read(message.Payload, i);
            fds[i] = message.TakeFd(i);
        }
        RamMapper.Apply(_sysmemRegions.AsSpan(0, count), fds);
    }

    private void HandleSetIrqfd(MpqemuMessage message)
    {
        if (message.PayloadSize != 0 || message.FdCount != 2)
        {
            Reject(message, $"SET_IRQFD with {message.PayloadSize}-byte payload and {message.FdCount} fds; ignored");
            return;
        }
        int intr = message.TakeFd(0);
        int resample = message.TakeFd(1);
        // QEMU creates both non-blocking; make sure a draining read can never block the loop.
        fcntl(resample, F_SETFL, fcntl(resample, F_GETFL) | O_NONBLOCK);
        fcntl(intr, F_SETFL, fcntl(intr, F_GETFL) | O_NONBLOCK);
        Interrupt.Connect(intr, resample);
    }

    private void HandleDeviceReset(MpqemuMessage message)
    {
        Statistics.ResetsField++;
        if (message.FdCount != 0) Reject(message, "DEVICE_RESET carried fds; closed them");
        ConfigSpace.Reset();
        Interrupt.SetMasked(false);
        Interrupt.SetLevel(false);
        _function.Reset?.Invoke();
        _channel.SendReturn(0);
    }

    private bool ExpectPayload(MpqemuMessage message, int size, int fds)
    {
        if (message.PayloadSize == size && message.FdCount == fds) return true;
        Reject(message, $"expected a {size}-byte payload with {fds} fds, got {message.PayloadSize} bytes and {message.FdCount} fds");
        return false;
    }

    private void Reject(MpqemuMessage message, string why)
    {
        Statistics.RejectedField++;
        _log?.Invoke($"proxy message {message.Command} rejected: {why}");
    }
}
