using ShadowIo;

namespace ShadowIo.Devices.Virtio;

/// <summary>
/// The virtio-pci ISR status (virtio 1.2, section 4.1.4.5): one byte whose read returns and clears
/// it, which de-asserts the INTx line. Bit 0: a virtqueue was used; bit 1: the device configuration
/// changed. Drivers using MSI-X do not read it; the device sets it either way, as QEMU does.
/// </summary>
[RegisterBlock("virtio-pci ISR status", VirtioPciLayout.IsrSize)]
public sealed partial class VirtioIsrRegisters
{
    /// <summary>ISR status: both bits are cleared by the read that returns them.</summary>
    [Register(0x00, 1, Access = RegisterAccess.ReadOnly)]
    [Field("QueueInterrupt", 0, 1, Access = FieldAccess.ReadToClear)]
    [Field("DeviceConfigurationInterrupt", 1, 1, Access = FieldAccess.ReadToClear)]
    public partial byte IsrStatus { get; set; }
}
