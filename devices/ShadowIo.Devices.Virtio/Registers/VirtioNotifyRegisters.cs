using ShadowIo;

namespace ShadowIo.Devices.Virtio;

/// <summary>
/// The virtio-pci notification region (virtio 1.2, section 4.1.4.4): the driver notifies
/// virtqueue <c>n</c> by writing its index (16 bits) at <c>queue_notify_off(n) ×
/// notify_off_multiplier</c>. Here queue <c>n</c>'s notify offset is <c>n</c> and the multiplier is
/// <see cref="VirtioPciLayout.NotifyOffMultiplier"/>, so queue <c>n</c> rings at <c>4n</c>.
/// </summary>
/// <remarks>
/// <para>The doorbells are notify-only: without VIRTIO_F_NOTIFICATION_DATA the written value is
/// the queue index, which the address already says, and the work itself is published in guest
/// memory (the available ring's <c>idx</c>, virtio's shadow doorbell). So every binding mode can
/// serve them with an ioeventfd from the start, the way QEMU registers virtio-pci modern notify
/// doorbells (2 bytes, no datamatch), and a trapped write only signals.</para>
/// <para>They are declared one per queue at a constant stride: the generator's
/// <c>DoorbellArray</c> is value-carrying only, and a value doorbell would trap in guest-shadow mode
/// until a guest shadow page is attached, which virtio has no counterpart of.</para>
/// </remarks>
[RegisterBlock("virtio-pci notifications", VirtioPciLayout.NotifySize)]
[NotifyDoorbell("Queue0", 0 * VirtioPciLayout.NotifyOffMultiplier, VirtioPciLayout.NotifyWidth)]
[NotifyDoorbell("Queue1", 1 * VirtioPciLayout.NotifyOffMultiplier, VirtioPciLayout.NotifyWidth)]
[NotifyDoorbell("Queue2", 2 * VirtioPciLayout.NotifyOffMultiplier, VirtioPciLayout.NotifyWidth)]
[NotifyDoorbell("Queue3", 3 * VirtioPciLayout.NotifyOffMultiplier, VirtioPciLayout.NotifyWidth)]
public sealed partial class VirtioNotifyRegisters
{
    /// <summary>Virtqueues with a notify doorbell: the most the device offers (<see cref="VirtioPciLayout.MaxQueues"/>).</summary>
    public const int QueueCount = VirtioPciLayout.MaxQueues;

    /// <summary>The doorbell row of virtqueue <paramref name="queue"/> (rows are declared in queue order).</summary>
    public static int RowOf(int queue) => DoorbellIndex.Queue0 + queue;

    /// <summary>The virtqueue a doorbell row notifies; -1 for a row that is not a queue's.</summary>
    public static int QueueOf(int row) => (uint)(row - DoorbellIndex.Queue0) < QueueCount ? row - DoorbellIndex.Queue0 : -1;

    private Action<int>? _notified;

    /// <summary>Connects the block to the device: a notify that reached MMIO dispatch (no binding took it).</summary>
    internal void Attach(Action<int> notified) => _notified = notified;

    partial void OnDoorbellWritten(int row, ulong value) => _notified?.Invoke(row);
}
