using ShadowIo.Pci;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// The sample NVMe controller served to QEMU 11.1's <c>vfio-user-pci</c> through
/// <see cref="VfioUserDeviceHost"/>: BAR0 (64-bit, the controller's register block) with the I/O
/// queue doorbells trapped into a shadow page with eventfds, an MSI-X table of one vector per queue
/// in BAR4, and the Doorbell Buffer Config the guest sent.
/// </summary>
internal sealed class NvmeVfioUserHost : IDisposable
{
    /// <summary>PCI identity: NVMe class 01:08:02; vendor as in Identify (0x1B36), a device id of our own.</summary>
    public static readonly PciIdentity Identity = new(0x1b36, 0x5349, 0x010802, RevisionId: 1, SubsystemVendorId: 0x1b36, SubsystemId: 0x5349);

    /// <param name="socketPath">Where the server listens (QEMU's <c>socket.path</c>, seen from the host).</param>
    /// <param name="spin">How long the controller thread keeps polling after the last work before it sleeps.</param>
    /// <param name="doorbells">
    /// How the guest's doorbell stores reach the controller: as (posted) region writes trapped into
    /// the shadow page with eventfds, or as stores into BAR0's doorbell page, which the server
    /// offers as a sparse mmap area backed by the shadow memfd, and the controller polls.
    /// </param>
    /// <param name="runnerOptions">The controller thread's options instead of adaptive polling with <paramref name="spin"/>.</param>
    public NvmeVfioUserHost(string socketPath, IBlockStorage storage, TimeSpan spin, DoorbellDelivery doorbells, Action<string>? log = null, Hosting.DeviceRunnerOptions? runnerOptions = null)
    {
        var memory = new GuestMemory();
        Controller = new NvmeController(memory, storage);
        Delivery = doorbells;
        bool mapped = doorbells == DoorbellDelivery.Mapped;
        // Admin queue doorbells (element 0) are left to the controller's MMIO dispatch when trapped;
        // in a mapped page they are polled like the rest.
        var set = mapped
            ? DoorbellSet.CreateMappable(NvmeController.DoorbellTable, static e => e.Element != 0)
            : DoorbellSet.Create(NvmeController.DoorbellTable, static e => e.Element != 0);
        Controller.DoorbellSource = set.Shadow;
        Controller.DoorbellBufferConfigured = pages => DoorbellBuffer = FirstDoorbellBuffer ??= pages;
        Controller.DoorbellBufferReleased = () => DoorbellBuffer = null;
        Msix = new MsixTable(NvmeRegisters.QueueCount);
        var bar0 = new PciBar(0, PciBarKind.Memory64, NvmeRegisters.BlockSize, Controller, set);
        var bar4 = new PciBar(4, PciBarKind.Memory32, Msix.BarSize, Msix);
        var function = new PciFunction(Identity, [bar0, bar4], ResetController, PciMsix.InBar(4, Msix));
        Host = new VfioUserDeviceHost(socketPath, function, memory, Controller, set,
            server => Controller.InterruptRequested = vector => server.Interrupts.Raise(vector), "controller", spin, log, runnerOptions)
        {
            // Nothing signals a store into the mapped page: the idle thread naps and looks (DeviceRunner.NapUntilWork).
            IdleNapLimit = mapped ? MappedIdleNapLimit : TimeSpan.Zero,
        }.Start();
    }

    /// <summary>The longest idle nap of the polling controller thread in mapped mode: the worst first-command latency after a quiet spell.</summary>
    public static readonly TimeSpan MappedIdleNapLimit = TimeSpan.FromMilliseconds(4);

    public DoorbellDelivery Delivery { get; }

    /// <summary>The device-agnostic part: server, device thread, statistics.</summary>
    public VfioUserDeviceHost Host { get; }

    public NvmeController Controller { get; }

    public DoorbellSet Doorbells => Host.Doorbells!;   // the controller is always served with its doorbells

    public MsixTable Msix { get; }

    public VfioUser.Server.VfioUserServer Server => Host.Server;

    /// <summary>The pages the guest named with Doorbell Buffer Config, while in use.</summary>
    public DoorbellBufferPages? DoorbellBuffer { get; private set; }

    /// <summary>The first Doorbell Buffer Config the guest sent (kept after a reset released it).</summary>
    public DoorbellBufferPages? FirstDoorbellBuffer { get; private set; }

    /// <summary>DEVICE_RESET: clear CC.EN as a host would, then return every register to its reset value.</summary>
    private void ResetController()
    {
        Controller.WriteMmio(NvmeRegisters.CcOffset, 4, 0);
        Controller.Registers.ResetRegisters();
    }

    public void Dispose()
    {
        Host.Dispose();
        Controller.Dispose();
        Doorbells.Dispose();
    }
}

/// <summary>How doorbells reach a device served over vfio-user to QEMU (whose client never asks for region IO fds).</summary>
internal enum DoorbellDelivery
{
    /// <summary>Each doorbell store exits in QEMU and arrives as a (posted) REGION_WRITE.</summary>
    RegionWrite,

    /// <summary>The doorbell page is mmapped into the guest; stores land in the shadow page, the device polls.</summary>
    Mapped,
}
