namespace ShadowIo.Runtime.Tests.Blocks;

/// <summary>
/// virtio-mmio's QueueNotify (offset 0x50): one 4-byte address, one notify doorbell per queue,
/// each matching its queue index (queue 0 matching 0), as QEMU and Firecracker wire it with one
/// KVM ioeventfd per queue. Rows 0-7 are queues 0-7 (declaration order); row 8 a doorbell of its
/// own elsewhere, so the shared address is not the only one.
/// </summary>
[RegisterBlock("virtio-mmio notify", 0x200)]
[NotifyDoorbell("queue 0", 0x50, 4, DataMatch = 0)]
[NotifyDoorbell("queue 1", 0x50, 4, DataMatch = 1)]
[NotifyDoorbell("queue 2", 0x50, 4, DataMatch = 2)]
[NotifyDoorbell("queue 3", 0x50, 4, DataMatch = 3)]
[NotifyDoorbell("queue 4", 0x50, 4, DataMatch = 4)]
[NotifyDoorbell("queue 5", 0x50, 4, DataMatch = 5)]
[NotifyDoorbell("queue 6", 0x50, 4, DataMatch = 6)]
[NotifyDoorbell("queue 7", 0x50, 4, DataMatch = 7)]
[NotifyDoorbell("config", 0x100, 2)]
public sealed partial class QueueNotifyBlock
{
    public const ulong QueueNotifyOffset = 0x50;
    public const int Queues = 8;

    [Register(0x70, 4)]
    public partial uint Status { get; set; }

    /// <summary>Doorbell writes that reached dispatch instead of a binding.</summary>
    public List<(int Row, ulong Value)> DispatchedDoorbells { get; } = [];

    partial void OnDoorbellWritten(int row, ulong value) => DispatchedDoorbells.Add((row, value));
}
