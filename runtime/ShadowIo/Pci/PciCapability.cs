namespace ShadowIo.Pci;

/// <summary>
/// A capability a function places in its configuration space's capability list besides MSI-X
/// (PCI Local Bus 3.0, §6.7): its ID and the bytes after the ID and next-pointer bytes. The config
/// space chains it (it writes the next pointer) and serves its bytes read-only.
/// </summary>
/// <remarks>
/// A virtio-pci device's vendor capabilities (ID 0x09, virtio 1.2 §4.1.4) are this kind: fixed
/// bytes telling the driver where each structure sits in which BAR. A capability with writable
/// fields (virtio's <c>pci_cfg_data</c> window) would need its own model; its bytes here read as
/// given and ignore writes.
/// </remarks>
/// <param name="Id">Capability ID (byte 0), e.g. 0x09 for a vendor-specific capability.</param>
/// <param name="Body">The capability's bytes from offset 2 on (for a vendor capability, <c>cap_len</c> first).</param>
public sealed record PciCapability(byte Id, byte[] Body)
{
    /// <summary>Bytes the capability takes in configuration space: ID, next pointer and body.</summary>
    public int Length => 2 + Body.Length;
}
