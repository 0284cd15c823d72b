namespace ShadowIo.Devices.Nvme;

/// <summary>
/// The device side of the register block: the generated MMIO dispatch calls these hooks after
/// it has applied the access rules, and they hand the event to the controller.
/// </summary>
public sealed partial class NvmeRegisters
{
    private IRegisterEvents? _events;
    private uint _interruptMask;

    /// <summary>Connects the block to the controller that reacts to guest writes.</summary>
    internal void Attach(IRegisterEvents events) => _events = events;

    partial void OnCcWritten(uint previous, uint value) => _events?.OnControllerConfigurationWritten(previous, value);

    partial void OnDoorbellWritten(int row, ulong value) => _events?.OnDoorbellWritten(row, (uint)value);

    // INTMS/INTMC (section 3.1.3/3.1.4): writing 1 sets / clears a mask bit; both read the mask.
    // Only meaningful for pin-based interrupts; kept so a driver reading them back sees sense.
    // Both registers hold the mask, so the Set and WriteOneToClear fields have already applied
    // the written bits, of the written bytes only: `value` is the new mask. (Clearing with the
    // whole register, `mask & ~value`, cleared every bit outside a narrow write's bytes.)
    partial void OnIntmsWritten(uint previous, uint value) => SetInterruptMask(value);

    partial void OnIntmcWritten(uint previous, uint value) => SetInterruptMask(value);

    // CAP.NSSRS = 0: NVM Subsystem Reset is not supported and the register reads 0.
    partial void OnNssrWritten(uint previous, uint value) => Nssr = 0;

    private void SetInterruptMask(uint mask)
    {
        _interruptMask = mask;
        Intms = mask;
        Intmc = mask;
    }

    internal void ClearInterruptMask() => SetInterruptMask(0);
}

/// <summary>What the register block reports to its controller.</summary>
internal interface IRegisterEvents
{
    void OnControllerConfigurationWritten(uint previous, uint value);

    void OnDoorbellWritten(int row, uint value);
}
