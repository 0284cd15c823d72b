namespace ShadowIo.Generator.Tests.Blocks;

/// <summary>Containing type for a nested block (hint name and partial nesting).</summary>
public static partial class Devices
{
    /// <summary>
    /// A virtio-pci-like block: a notify doorbell with datamatch, one without, a single value
    /// doorbell and a 2-byte value array, next to ordinary registers.
    /// </summary>
    [RegisterBlock("virtio notify", 0x1000, ShadowSize = 64)]
    [NotifyDoorbell("queue notify", 0x100, 2, DataMatch = 3)]
    [NotifyDoorbell("config notify", 0x104, 4)]
    [Doorbell("event index", 0x200, 4)]
    [DoorbellArray("avail idx", 0x208, 2, 4, 4)]
    [Doorbell("wide counter", 0x218, 8)]
    internal sealed partial class VirtioNotifyBlock
    {
        [Register(0x00, 4, Access = RegisterAccess.ReadOnly, Reset = 0x1AF4)]
        internal partial uint DeviceId { get; set; }

        [Register(0x04, 1)]
        internal partial byte DeviceStatus { get; private set; }

        public List<(int Row, ulong Value)> DoorbellWrites { get; } = [];

        partial void OnDoorbellWritten(int row, ulong value) => DoorbellWrites.Add((row, value));
    }
}
