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
    public NvmeVfioUserHost(string socketPath, IBlockStorage storage, TimeSpan spin, Action<string>? log = null)
    {
        var memory = new GuestMemory();
        Controller = new NvmeController(memory, storage);
        var doorbells = DoorbellSet.Create(NvmeController.DoorbellTable, static e => e.Element != 0);
        Controller.DoorbellSource = doorbells.Shadow;
        Controller.DoorbellBufferConfigured = pages => DoorbellBuffer = FirstDoorbellBuffer ??= pages;
        Controller.DoorbellBufferReleased = () => DoorbellBuffer = null;
        Msix = new MsixTable(NvmeRegisters.QueueCount);
        var bar0 = new PciBar(0, PciBarKind.Memory64, NvmeRegisters.BlockSize, Controller, doorbells);
        var bar4 = new PciBar(4, PciBarKind.Memory32, Msix.BarSize, Msix);
        var function = new PciFunction(Identity, [bar0, bar4], ResetController, PciMsix.InBar(4, Msix));
        Host = new VfioUserDeviceHost(socketPath, function, memory, Controller, doorbells,
            server => Controller.InterruptRequested = vector => server.Interrupts.Raise(vector), "controller", spin, log).Start();
    }

    /// <summary>The device-agnostic part: server, device thread, statistics.</summary>
    public VfioUserDeviceHost Host { get; }

    public NvmeController Controller { get; }

    public DoorbellSet Doorbells => Host.Doorbells;

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
