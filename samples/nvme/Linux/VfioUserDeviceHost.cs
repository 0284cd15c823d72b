using ShadowIo.Hosting;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Server;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// Any device served to QEMU 11.1's <c>vfio-user-pci</c>: a <see cref="PciFunction"/> whose
/// doorbells are trapped into a <see cref="DoorbellSet"/> by the <see cref="VfioUserServer"/>, and
/// the device thread (the runtime's <see cref="DeviceRunner"/>, adaptive polling) that waits on
/// them. The NVMe controller (<see cref="NvmeVfioUserHost"/>) and the virtio-blk device
/// (<see cref="VirtioBlkVfioUserHost"/>) are each a few lines of wiring over it.
/// </summary>
/// <remarks>
/// Interrupts are real: the device's interrupt request signals the vector's eventfd from SET_IRQS,
/// which QEMU (under TCG, with no KVM irqfd) watches in its main loop and injects as the MSI-X
/// message. <paramref name="connectInterrupts"/> runs before the server accepts its client.
/// Without <paramref name="doorbells"/> no device thread runs: the function's BAR writes reach the
/// device on the server's thread, the device's only driver then.
/// </remarks>
/// <param name="socketPath">Where the server listens (QEMU's <c>socket.path</c>, seen from the host).</param>
/// <param name="function">What to serve.</param>
/// <param name="memory">The guest memory the device was built over; the server publishes the client's DMA maps into it.</param>
/// <param name="device">The device the runner drives from the doorbells.</param>
/// <param name="doorbells">The doorbells of <paramref name="function"/>'s BAR, which the runner waits on; null for none (no runner).</param>
/// <param name="connectInterrupts">Connects the device's interrupt requests to the server's <see cref="VfioUserServer.Interrupts"/>.</param>
/// <param name="name">The device's name in thread names and health reports.</param>
/// <param name="spin">How long the device thread keeps polling after the last work before it sleeps.</param>
/// <param name="runnerOptions">The device thread's options instead of adaptive polling with <paramref name="spin"/> (the workload's device process runs its controller exactly as in process).</param>
internal sealed class VfioUserDeviceHost(
    string socketPath, PciFunction function, GuestMemory memory, IDoorbellDevice device, DoorbellSet? doorbells,
    Action<VfioUserServer> connectInterrupts, string name, TimeSpan spin, Action<string>? log = null, DeviceRunnerOptions? runnerOptions = null) : IDisposable
{
    private readonly DoorbellEvents? _events = doorbells != null ? Watch(doorbells) : null;

    public VfioUserServer Server { get; } = Connect(new VfioUserServer(function, memory, log), connectInterrupts);

    public DoorbellSet? Doorbells => doorbells;

    private DeviceRunner? _runner;
    private Task? _running;

    /// <summary>Completes when QEMU closes the link (or the server is stopped).</summary>
    public Task Running => _running ?? throw new InvalidOperationException("Start the host first.");

    /// <summary>Starts the device thread (when there are doorbells to wait on), then the server's listener.</summary>
    public VfioUserDeviceHost Start()
    {
        if (_events != null) _runner = new DeviceRunner(device, _events, runnerOptions ?? new DeviceRunnerOptions
        {
            Mode = DeviceRunnerMode.AdaptivePolling,
            PollIdle = spin,
            IdlePause = IdlePause.Yield,
            SleepTimeoutMilliseconds = 100,
            IdleNapLimit = IdleNapLimit,
            ThreadName = $"{name}-vfio-user-doorbells",
            DeviceName = name,
        });
        _running = Server.Serve(socketPath);
        return this;
    }

    /// <summary>When positive, the idle device thread naps and polls instead of sleeping on the eventfds (doorbells in a mapped page signal nothing).</summary>
    public TimeSpan IdleNapLimit { get; init; }

    /// <summary>Times the device thread went idle (asleep on the eventfds, or napping).</summary>
    public long Sleeps => _runner?.Sleeps ?? 0;

    /// <summary>Timed naps of the idle device thread (mapped doorbells).</summary>
    public long Naps => _runner?.Naps ?? 0;

    /// <summary>Doorbell events the device thread received (eventfd signals, coalesced).</summary>
    public long DoorbellEvents => _runner?.DoorbellEvents ?? 0;

    /// <summary>MMIO doorbell writes that reached the server (trapped into the doorbell set, or dispatched when not bound).</summary>
    public long MmioDoorbellWrites => Server.Statistics.DoorbellWrites;

    /// <summary>Throws when the device thread died or the device caught one of its own bugs.</summary>
    public void CheckHealth()
    {
        if (_runner != null) _runner.CheckHealth();
        else if (device.InternalErrors > 0)
            throw new InvalidOperationException($"{name}: {device.InternalErrors} internal error(s) on the server's thread", device.LastInternalError);
    }

    /// <summary>A one-line summary of the link and the interrupts.</summary>
    public string Describe()
    {
        var s = Server.Statistics;
        var i = Server.Interrupts;
        return $"messages {s.Messages}, region reads {s.RegionReads}, writes {s.RegionWrites} (posted {s.PostedWrites}), doorbell writes {s.DoorbellWrites}, " +
            $"DMA maps {s.DmaMaps}/unmaps {s.DmaUnmaps}, resets {s.Resets}, error replies {s.ErrorReplies}, device failures {s.DeviceFailures}; " +
            $"interrupts delivered {i.Delivered}, dropped {i.Dropped}, MSI-X mode {i.MsixMode}";
    }

    private static DoorbellEvents Watch(DoorbellSet doorbells)
    {
        var events = new DoorbellEvents();
        events.Add(doorbells);
        return events;
    }

    private static VfioUserServer Connect(VfioUserServer server, Action<VfioUserServer> connectInterrupts)
    {
        connectInterrupts(server);
        return server;
    }

    /// <summary>Stops the device thread and the server; the device and its doorbells stay the caller's.</summary>
    public void Dispose()
    {
        _runner?.Dispose();
        Server.Dispose();
        _events?.Dispose();
    }
}
