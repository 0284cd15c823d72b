using ShadowIo.Hosting;
using ShadowIo.Qemu;
using ShadowIo.Pci;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// The sample NVMe controller served to QEMU through <c>x-pci-proxy-dev</c>: BAR0 (32-bit, the
/// controller's register block), I/O queue doorbells trapped into a shadow page with eventfds,
/// and a controller thread that polls while the guest is busy and sleeps on the eventfds when
/// it is idle.
/// </summary>
/// <remarks>
/// <para>Admin doorbells stay on MMIO dispatch (Linux never shadows queue 0), so admin commands
/// run synchronously on the server thread while the proxy's vCPU waits for the RET.</para>
/// <para>Polling keeps EventIdx one behind the tail (<see cref="NvmeController.IsPolling"/>), so
/// a Linux guest using Doorbell Buffer Config does not ring at all while the thread spins. Before
/// sleeping the thread turns polling off and polls once more: the controller then writes
/// EventIdx = tail, and the next submission rings (one trapped write) and wakes it — the
/// race-free hand-over QEMU and SPDK use.</para>
/// </remarks>
internal sealed class NvmeProxyHost : IDisposable
{
    /// <summary>PCI identity: NVMe class 01:08:02; vendor as in Identify (0x1B36), a device id of our own.</summary>
    public static readonly PciIdentity Identity = new(0x1b36, 0x5349, 0x010802, RevisionId: 1, SubsystemVendorId: 0x1b36, SubsystemId: 0x5349);

    private readonly DoorbellEvents _events = new();
    private readonly DeviceRunner _runner;

    /// <param name="link">The socket pair whose QEMU end QEMU inherits; the server takes the other end.</param>
    /// <param name="spin">How long the controller thread keeps polling after the last work before it sleeps.</param>
    public NvmeProxyHost(ProxySocketPair link, IBlockStorage storage, TimeSpan spin, Action<string>? log = null)
    {
        var memory = new GuestMemory();
        Controller = new NvmeController(memory, storage);
        Doorbells = DoorbellSet.Create(NvmeController.DoorbellTable, static e => e.Element != 0);
        Controller.DoorbellSource = Doorbells.Shadow;
        Controller.DoorbellBufferConfigured = pages => DoorbellBuffer = FirstDoorbellBuffer ??= pages;
        Controller.DoorbellBufferReleased = () => DoorbellBuffer = null;
        var bar0 = new PciBar(0, PciBarKind.Memory32, NvmeRegisters.BlockSize, Controller, Doorbells);
        Server = new QemuProxyServer(link, new PciFunction(Identity, [bar0], ResetController), log, memory);
        Controller.InterruptRequested = _ => Server.Interrupt.Pulse();
        Running = Server.Start();
        _events.Add(Doorbells);
        _runner = new DeviceRunner(Controller, _events, new DeviceRunnerOptions
        {
            Mode = DeviceRunnerMode.AdaptivePolling,
            PollIdle = spin,
            // Two cores host QEMU's vCPUs too: give them the core between looks.
            IdlePause = IdlePause.Yield,
            SleepTimeoutMilliseconds = 100,
            ThreadName = "nvme-proxy-doorbells",
            DeviceName = "controller",
        });
    }

    public NvmeController Controller { get; }

    public DoorbellSet Doorbells { get; }

    public QemuProxyServer Server { get; }

    /// <summary>Completes when QEMU closes the link.</summary>
    public Task Running { get; }

    /// <summary>The pages the guest named with Doorbell Buffer Config, while in use.</summary>
    public DoorbellBufferPages? DoorbellBuffer { get; private set; }

    /// <summary>The first Doorbell Buffer Config the guest sent (kept after a reset released it).</summary>
    public DoorbellBufferPages? FirstDoorbellBuffer { get; private set; }

    /// <summary>Times the controller thread went to sleep on the eventfds.</summary>
    public long Sleeps => _runner.Sleeps;

    /// <summary>MMIO doorbell writes that reached the device (I/O doorbells trapped, admin doorbells dispatched).</summary>
    public long MmioDoorbellWrites => Server.Statistics.DoorbellWrites;

    /// <summary>Throws when the controller thread died or the controller caught one of its own bugs.</summary>
    public void CheckHealth() => _runner.CheckHealth();

    /// <summary>
    /// DEVICE_RESET (system reset): clear CC.EN as a host would, which tears down the queues and
    /// leaves guest-shadow mode, then return every register to its reset value.
    /// </summary>
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
