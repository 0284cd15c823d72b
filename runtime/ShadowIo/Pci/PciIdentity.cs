namespace ShadowIo.Pci;

/// <summary>
/// What a PCI function says it is in its type-0 header: a vfio-user client reads it through
/// config-space REGION_READs, as the guest's PCI core does.
/// </summary>
/// <param name="VendorId">PCI vendor id (offset 0x00), e.g. 0x1b36 for QEMU's Red Hat range.</param>
/// <param name="DeviceId">Device id (offset 0x02), chosen by the vendor.</param>
/// <param name="ClassCode">24 bits: base class, sub-class, programming interface (NVMe: 0x010802).</param>
/// <param name="RevisionId">Revision id (offset 0x08).</param>
/// <param name="SubsystemVendorId">Subsystem vendor id (offset 0x2c); 0 when the function has none.</param>
/// <param name="SubsystemId">Subsystem id (offset 0x2e).</param>
/// <param name="InterruptPin">1 = INTA# … 4 = INTD#, 0 = no interrupt.</param>
public sealed record PciIdentity(
    ushort VendorId,
    ushort DeviceId,
    uint ClassCode,
    byte RevisionId = 0,
    ushort SubsystemVendorId = 0,
    ushort SubsystemId = 0,
    byte InterruptPin = 1);
