namespace ShadowIo.Pci;

/// <summary>
/// A PCI function to serve: its identity, its BARs, its MSI-X capability and what a device reset does.
/// </summary>
/// <param name="Identity">The ids and class the type-0 header reports.</param>
/// <param name="Bars">The function's BARs, at most one per index 0..5; validated when a server is built.</param>
/// <param name="Reset">
/// Called on a device reset (system reset reached the transport), after the config space went
/// back to power-on state; a register block would call <c>ResetRegisters</c> here.
/// </param>
/// <param name="Msix">
/// The MSI-X capability, placed in the capability list; its table and PBA live in one of
/// <paramref name="Bars"/> (usually a <see cref="MsixTable"/> as that BAR's device). Null: INTx only.
/// </param>
/// <param name="Capabilities">
/// Further read-only capabilities chained after MSI-X in the capability list (a virtio-pci
/// device's vendor capabilities); null for none.
/// </param>
public sealed record PciFunction(PciIdentity Identity, IReadOnlyList<PciBar> Bars, Action? Reset = null, PciMsix? Msix = null, IReadOnlyList<PciCapability>? Capabilities = null);
