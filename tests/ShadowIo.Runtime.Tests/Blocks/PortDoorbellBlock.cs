namespace ShadowIo.Runtime.Tests.Blocks;

/// <summary>
/// A port I/O block (an I/O BAR): value doorbells of each port width, three notify doorbells
/// sharing one 16-bit port with the queue index as datamatch (legacy virtio-pci's queue notify at
/// offset 0x10), and registers a guest reads back with <c>in</c>.
/// </summary>
[RegisterBlock("port doorbells", 0x20, AddressSpace = AddressSpace.Port)]
[Doorbell("byte tail", 0x00, 1)]
[Doorbell("word tail", 0x02, 2)]
[Doorbell("dword tail", 0x04, 4)]
[NotifyDoorbell("queue 0", 0x10, 2, DataMatch = 0)]
[NotifyDoorbell("queue 1", 0x10, 2, DataMatch = 1)]
[NotifyDoorbell("queue 2", 0x10, 2, DataMatch = 2)]
public sealed partial class PortDoorbellBlock
{
    public const uint IdentityReset = 0x1AF4_1000;

    [Register(0x08, 4, Access = RegisterAccess.ReadOnly, Reset = IdentityReset)]
    public partial uint Identity { get; set; }

    [Register(0x0C, 2)]
    public partial ushort Scratch { get; set; }

    [Register(0x12, 1)]
    public partial byte Status { get; set; }

    /// <summary>Doorbell writes that reached dispatch instead of a binding.</summary>
    public List<(int Row, ulong Value)> DispatchedDoorbells { get; } = [];

    partial void OnDoorbellWritten(int row, ulong value) => DispatchedDoorbells.Add((row, value));
}
