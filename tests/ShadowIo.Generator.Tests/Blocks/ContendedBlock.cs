namespace ShadowIo.Generator.Tests.Blocks;

/// <summary>
/// One register of each width shared by a guest and a device thread: DEVICE is the device's
/// (read-only to the guest), GUEST is the guest's (write-1-to-toggle, in byte 1 where the register
/// has one, so a 1-byte guest write merges into the wider register), EVENT is raised by the device
/// and acknowledged by the guest (write-1-to-clear), PENDING is raised by the device and consumed by
/// a guest read (read-to-clear). Used by the concurrency tests; every hook pair is checked.
/// </summary>
[RegisterBlock("Contended", 0x40)]
public sealed partial class ContendedBlock
{
    [Register(0x00, 1)]
    [Field("DEVICE", 0, 2, Access = FieldAccess.ReadOnly)]
    [Field("GUEST", 2, 2, Access = FieldAccess.Toggle)]
    [Field("EVENT", 4, 1, Access = FieldAccess.WriteOneToClear)]
    [Field("PENDING", 5, 1, Access = FieldAccess.ReadToClear)]
    public partial byte Narrow { get; set; }

    [Register(0x08, 2)]
    [Field("DEVICE", 0, 2, Access = FieldAccess.ReadOnly)]
    [Field("EVENT", 4, 1, Access = FieldAccess.WriteOneToClear)]
    [Field("PENDING", 5, 1, Access = FieldAccess.ReadToClear)]
    [Field("GUEST", 8, 2, Access = FieldAccess.Toggle)]
    public partial ushort Half { get; set; }

    [Register(0x10, 4)]
    [Field("DEVICE", 0, 2, Access = FieldAccess.ReadOnly)]
    [Field("EVENT", 4, 1, Access = FieldAccess.WriteOneToClear)]
    [Field("PENDING", 5, 1, Access = FieldAccess.ReadToClear)]
    [Field("GUEST", 8, 2, Access = FieldAccess.Toggle)]
    public partial uint Word { get; set; }

    [Register(0x18, 8)]
    [Field("DEVICE", 0, 2, Access = FieldAccess.ReadOnly)]
    [Field("EVENT", 4, 1, Access = FieldAccess.WriteOneToClear)]
    [Field("PENDING", 5, 1, Access = FieldAccess.ReadToClear)]
    [Field("GUEST", 8, 2, Access = FieldAccess.Toggle)]
    public partial ulong Wide { get; set; }

    /// <summary>Bits of DEVICE (bits 0..1 in every register).</summary>
    public const ulong DeviceBits = 0x3;

    private int _hooksThatChangedDeviceBits;

    /// <summary>
    /// Guest-write hooks whose (previous, value) pair differs in DEVICE: a guest write cannot change
    /// those bits, so such a pair was not the update's own (a device update leaked into it).
    /// </summary>
    public int HooksThatChangedDeviceBits => Volatile.Read(ref _hooksThatChangedDeviceBits);

    partial void OnNarrowWritten(byte previous, byte value) => CheckHook(previous, value);

    partial void OnHalfWritten(ushort previous, ushort value) => CheckHook(previous, value);

    partial void OnWordWritten(uint previous, uint value) => CheckHook(previous, value);

    partial void OnWideWritten(ulong previous, ulong value) => CheckHook(previous, value);

    private void CheckHook(ulong previous, ulong value)
    {
        if (((previous ^ value) & DeviceBits) != 0) Interlocked.Increment(ref _hooksThatChangedDeviceBits);
    }
}
