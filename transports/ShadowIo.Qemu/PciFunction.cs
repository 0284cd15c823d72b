using ShadowIo.Qemu.Pci;

namespace ShadowIo.Qemu;

/// <summary>
/// A PCI function to serve: its identity, its BARs and what a device reset does.
/// </summary>
/// <param name="Identity">The ids and class the type-0 header reports.</param>
/// <param name="Bars">The function's BARs, at most one per index 0..5; validated when the server is built.</param>
/// <param name="Reset">
/// Called on DEVICE_RESET (system reset reached QEMU's proxy), after the config space went back
/// to power-on state; a register block would call <c>ResetRegisters</c> here.
/// </param>
public sealed record PciFunction(PciIdentity Identity, IReadOnlyList<PciBar> Bars, Action? Reset = null);
