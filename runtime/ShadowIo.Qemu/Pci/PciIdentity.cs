namespace ShadowIo.Qemu.Pci;

/// <summary>
/// What a PCI function says it is in its type-0 header. QEMU's proxy reads vendor, device,
/// class and subsystem ids at realize time (probe_pci_info) and the guest reads the rest.
/// </summary>
/// <param name="ClassCode">24 bits: base class, sub-class, programming interface (NVMe: 0x010802).</param>
/// <param name="InterruptPin">1 = INTA# … 4 = INTD#, 0 = no interrupt.</param>
public sealed record PciIdentity(
    ushort VendorId,
    ushort DeviceId,
    uint ClassCode,
    byte RevisionId = 0,
    ushort SubsystemVendorId = 0,
    ushort SubsystemId = 0,
    byte InterruptPin = 1);
