using ShadowIo.Hosting;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Server;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// The sample NVMe controller served to QEMU 11.1's <c>vfio-user-pci</c>: BAR0 (64-bit, the
/// controller's register block) with the I/O queue doorbells trapped into a shadow page with
/// eventfds, an MSI-X table of one vector per queue in BAR4, and the controller thread of
/// <see cref="NvmeProxyHost"/>. Interrupts are real: the controller's
/// <see cref="NvmeController.InterruptRequested"/> signals the vector's eventfd from SET_IRQS,
/// which QEMU (under TCG, with no KVM irqfd) watches in its main loop and injects as the MSI-X message.
/// </summary>
internal sealed class NvmeVfioUserHost : IDisposable
{
    private readonly DoorbellEvents _events = new();
    private readonly DeviceRunner _runner;

    /// <param name="socketPath">Where the server listens (QEMU's <c>socket.path</c>, seen from the host).</param>
    /// <param name="spin">How long the controller thread keeps polling after the last work before it sleeps.</param>
    public NvmeVfioUserHost(string socketPath, IBlockStorage storage, TimeSpan spin, Action<string>? log = null)
    {
        var memory = new GuestMemory();
        Controller = new NvmeController(memory, storage);
        Doorbells = DoorbellSet.Create(NvmeController.DoorbellTable, static e => e.Element != 0);
        Controller.DoorbellSource = Doorbells.Shadow;
        Controller.DoorbellBufferConfigured = pages => DoorbellBuffer = FirstDoorbellBuffer ??= pages;
        Controller.DoorbellBufferReleased = () => DoorbellBuffer = null;
        Msix = new MsixTable(NvmeRegisters.QueueCount);
        var bar0 = new PciBar(0, PciBarKind.Memory64, NvmeRegisters.BlockSize, Controller, Doorbells);
        var bar4 = new PciBar(4, PciBarKind.Memory32, Msix.BarSize, Msix);
        Server = new VfioUserServer(new PciFunction(NvmeProxyHost.Identity, [bar0, bar4], ResetController, PciMsix.InBar(4, Msix)), memory, log);
        Controller.InterruptRequested = vector => Server.Interrupts.Raise(vector);
        Running = Server.Serve(socketPath);
        _events.Add(Doorbells);
        _runner = new DeviceRunner(Controller, _events, new DeviceRunnerOptions
        {
            Mode = DeviceRunnerMode.AdaptivePolling,
            PollIdle = spin,
            IdlePause = IdlePause.Yield,
            SleepTimeoutMilliseconds = 100,
            ThreadName = "nvme-vfio-user-doorbells",
            DeviceName = "controller",
        });
    }

    public NvmeController Controller { get; }

    public DoorbellSet Doorbells { get; }

    public MsixTable Msix { get; }

    public VfioUserServer Server { get; }

    /// <summary>Completes when QEMU closes the link (or the server is stopped).</summary>
    public Task Running { get; }

    /// <summary>The pages the guest named with Doorbell Buffer Config, while in use.</summary>
    public DoorbellBufferPages? DoorbellBuffer { get; private set; }

    /// <summary>The first Doorbell Buffer Config the guest sent (kept after a reset released it).</summary>
    public DoorbellBufferPages? FirstDoorbellBuffer { get; private set; }

    /// <summary>Times the controller thread went to sleep on the eventfds.</summary>
    public long Sleeps => _runner.Sleeps;

    /// <summary>MMIO doorbell writes that reached the server (I/O doorbells trapped, admin doorbells dispatched).</summary>
    public long MmioDoorbellWrites => Server.Statistics.DoorbellWrites;

    /// <summary>Throws when the controller thread died or the controller caught one of its own bugs.</summary>
    public void CheckHealth() => _runner.CheckHealth();

    /// <summary>A one-line summary of the link and the interrupts.</summary>
    public string Describe()
    {
        var s = Server.Statistics;
        var i = Server.Interrupts;
        return $"messages {s.Messages}, region reads {s.RegionReads}, writes {s.RegionWrites} (posted {s.PostedWrites}), doorbell writes {s.DoorbellWrites}, " +
            $"DMA maps {s.DmaMaps}/unmaps {s.DmaUnmaps}, resets {s.Resets}, error replies {s.ErrorReplies}, device failures {s.DeviceFailures}; " +
            $"interrupts delivered {i.Delivered}, dropped {i.Dropped}, MSI-X mode {i.MsixMode}";
    }

    /// <summary>DEVICE_RESET: clear CC.EN as a host would, then return every register to its reset value.</summary>
    private void ResetController()
    {
        Controller.WriteMmio(NvmeRegisters.CcOffset, 4, 0);
        Controller.Registers.ResetRegisters();
    }

    public void Dispose()
    {
        _runner.Dispose();
        Server.Dispose();
        _events.Dispose();
        Controller.Dispose();
        Doorbells.Dispose();
    }
}
