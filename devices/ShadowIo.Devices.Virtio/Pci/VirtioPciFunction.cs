using ShadowIo.Pci;

namespace ShadowIo.Devices.Virtio;

/// <summary>
/// A <see cref="VirtioBlkDevice"/> as a PCI function a transport serves (virtio 1.2, §4.1): the
/// modern virtio-pci identity, the structures' BAR (<see cref="VirtioPciLayout.Bar"/>, 64-bit) with
/// the notify doorbells trapped into a <see cref="DoorbellSet"/>, an MSI-X table in
/// <see cref="MsixBar"/>, and the vendor capabilities that point the driver at each structure.
/// </summary>
/// <remarks>
/// <para>Interrupts: the device asks for a virtio vector (<c>config_msix_vector</c> or the queue's
/// <c>queue_msix_vector</c>); <see cref="Route"/> turns it into what the transport raises, by
/// §4.1.5.1.2 and §4.1.5.4: with MSI-X enabled, the table entry of that number, or nothing for
/// VIRTIO_MSI_NO_VECTOR; with MSI-X disabled, INTx (the ISR status says why).</para>
/// <para>The PCI configuration access capability's <c>pci_cfg_data</c> window (§4.1.4.9) is
/// present as bytes but not forwarded to the BAR: Linux's virtio_pci never uses it (firmware
/// without BAR access does).</para>
/// </remarks>
public sealed class VirtioPciFunction : IDisposable
{
    /// <summary>The 32-bit memory BAR holding the MSI-X table and PBA (QEMU puts virtio's in BAR1 too).</summary>
    public const int MsixBar = 1;

    /// <summary>What a modern-only virtio-blk function reports (§4.1.2.1): vendor 0x1AF4, device 0x1042, revision 1, subsystem 0x1AF4/0x1100 as QEMU's.</summary>
    public static PciIdentity Identity { get; } = new(
        VirtioPciLayout.PciVendorId, VirtioPciLayout.PciDeviceId, VirtioPciLayout.PciClassCode, VirtioPciLayout.PciRevisionId,
        SubsystemVendorId: VirtioPciLayout.PciVendorId, SubsystemId: 0x1100, InterruptPin: 1);

    /// <summary>
    /// Wraps <paramref name="device"/>: a notify <see cref="DoorbellSet"/> over
    /// <see cref="VirtioBlkDevice.DoorbellTable"/>, an MSI-X table of the device's
    /// <see cref="VirtioBlkDeviceOptions.MsixVectors"/> entries, and the function.
    /// </summary>
    /// <exception cref="ArgumentException">The device offers no MSI-X vector.</exception>
    public VirtioPciFunction(VirtioBlkDevice device)
        : this(device, VirtioNotifyDelivery.Doorbells)
    {
    }

    /// <summary>
    /// Wraps <paramref name="device"/> as <see cref="VirtioPciFunction(VirtioBlkDevice)"/> does, its
    /// notify writes delivered as <paramref name="notify"/> says: trapped into a
    /// <see cref="DoorbellSet"/> for a device thread, or dispatched to the device on the
    /// transport's thread (no <see cref="Doorbells"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The device offers no MSI-X vector.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="notify"/> is not a defined delivery.</exception>
    public VirtioPciFunction(VirtioBlkDevice device, VirtioNotifyDelivery notify)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Options.MsixVectors < 1) throw new ArgumentException("A virtio-pci function served with MSI-X needs at least one vector.", nameof(device));
        if (notify is not (VirtioNotifyDelivery.Doorbells or VirtioNotifyDelivery.Inline)) throw new ArgumentOutOfRangeException(nameof(notify), notify, "Not a notify delivery.");
        Device = device;
        Notify = notify;
        Doorbells = notify == VirtioNotifyDelivery.Doorbells ? DoorbellSet.Create(VirtioBlkDevice.DoorbellTable) : null;
        Msix = new MsixTable(device.Options.MsixVectors);
        // Without a doorbell set a transport's BAR write reaches VirtioBlkDevice.WriteMmio, whose
        // notify dispatch processes the queue there (VfioUserServer.WriteBar's fallback).
        var structures = Doorbells != null
            ? new PciBar(VirtioPciLayout.Bar, PciBarKind.Memory64, VirtioPciLayout.BarSize, device, Doorbells, VirtioPciLayout.NotifyOffset)
            : new PciBar(VirtioPciLayout.Bar, PciBarKind.Memory64, VirtioPciLayout.BarSize, device);
        var msixBar = new PciBar(MsixBar, PciBarKind.Memory32, Msix.BarSize, Msix);
        Function = new PciFunction(Identity, [structures, msixBar], Reset, PciMsix.InBar(MsixBar, Msix), Capabilities);
    }

    /// <summary>The vendor capabilities of <see cref="VirtioPciCapabilities.All"/>, in list order, as the PCI model chains them.</summary>
    public static IReadOnlyList<PciCapability> Capabilities { get; } = VirtioPciCapabilities.All.Select(static c =>
    {
        var bytes = new byte[c.EncodedLength];
        c.Encode(bytes, next: 0);
        return new PciCapability(VirtioPciCapability.VendorCapabilityId, bytes[2..]);
    }).ToArray();

    /// <summary>The device behind the structures' BAR.</summary>
    public VirtioBlkDevice Device { get; }

    /// <summary>How the driver's notify writes reach the device.</summary>
    public VirtioNotifyDelivery Notify { get; }

    /// <summary>
    /// The notify doorbells, trapped by the transport (row n is queue n); the device thread waits on
    /// them. Null with <see cref="VirtioNotifyDelivery.Inline"/>.
    /// </summary>
    public DoorbellSet? Doorbells { get; }

    /// <summary>The MSI-X table and PBA in <see cref="MsixBar"/>.</summary>
    public MsixTable Msix { get; }

    /// <summary>The function to serve.</summary>
    public PciFunction Function { get; }

    /// <summary>
    /// What to raise for the device's interrupt on virtio vector <paramref name="vector"/>: the MSI-X
    /// table entry when MSI-X is enabled, -1 (nothing) for VIRTIO_MSI_NO_VECTOR or a vector past the
    /// table then (§4.1.5.1.2: the event is not mapped); 0, the INTx line, when MSI-X is disabled.
    /// </summary>
    public int Route(ushort vector, bool msixEnabled)
    {
        if (!msixEnabled) return 0;
        return vector < Msix.VectorCount ? vector : -1;
    }

    /// <summary>
    /// Connects the device's interrupts to a transport: each request goes through
    /// <see cref="Route"/> with the transport's MSI-X state and, unless unmapped, to
    /// <paramref name="raise"/> (a vfio-user server's <c>Interrupts.Raise</c>). Replaces
    /// <see cref="VirtioBlkDevice.InterruptRequested"/>; <paramref name="raise"/> runs under the
    /// device lock and must not call back into the device.
    /// </summary>
    /// <param name="msixEnabled">Whether the function is in MSI-X mode now (the client's SET_IRQS state, or the capability's enable bit).</param>
    /// <param name="raise">Signals an MSI-X table entry, or INTx for 0 outside MSI-X mode.</param>
    public void ConnectInterrupts(Func<bool> msixEnabled, Action<int> raise)
    {
        ArgumentNullException.ThrowIfNull(msixEnabled);
        ArgumentNullException.ThrowIfNull(raise);
        Device.InterruptRequested = vector =>
        {
            int target = Route(vector, msixEnabled());
            if (target >= 0) raise(target);
        };
    }

    /// <summary>A device reset from the transport: the driver's reset (device_status = 0, §2.4) and the MSI-X table's power-on state.</summary>
    private void Reset()
    {
        Device.WriteMmio(VirtioPciLayout.CommonConfigOffset + VirtioCommonConfigRegisters.DeviceStatusOffset, 1, 0);
        Msix.Reset();
    }

    /// <summary>Closes the doorbells' eventfds and shadow page.</summary>
    public void Dispose() => Doorbells?.Dispose();
}
