namespace ShadowIo.Devices.Virtio;

/// <summary>
/// One enabled split virtqueue (virtio 1.2, section 2.7): the device's side of the available and
/// used rings, read and written only through <see cref="GuestMemory"/>. Not thread-safe: the
/// device calls it under its lock.
/// </summary>
/// <remarks>
/// Layout (2.7.6, 2.7.8): available ring <c>flags, idx, ring[size], used_event</c> (le16 each);
/// used ring <c>flags, idx, {le32 id, le32 len}[size], avail_event</c>. The barriers are virtio's:
/// read the available <c>idx</c> before the entries it covers; write a used element before the
/// <c>idx</c> that publishes it; a full barrier between publishing and reading the driver's
/// suppression (<c>used_event</c> or <c>flags</c>), and between arming <c>avail_event</c> and the
/// re-read of <c>idx</c> that closes the race with a driver that saw the old value.
/// </remarks>
internal sealed class SplitVirtqueue
{
    /// <summary>VIRTQ_AVAIL_F_NO_INTERRUPT: the driver asks for no interrupt (without EVENT_IDX).</summary>
    public const ushort AvailNoInterrupt = 1;

    /// <summary>VIRTQ_USED_F_NO_NOTIFY: the device asks for no notification (without EVENT_IDX).</summary>
    public const ushort UsedNoNotify = 1;

    private readonly GuestMemory _memory;
    private int _publishedSuppression = -1;

    public SplitVirtqueue(GuestMemory memory, int index, in VirtqueueConfig config, bool eventIdx, bool indirect)
    {
        _memory = memory;
        Index = index;
        Size = config.Size;
        DescriptorTable = config.DescriptorTable;
        AvailRing = config.DriverArea;
        UsedRing = config.DeviceArea;
        Vector = config.MsixVector;
        EventIdx = eventIdx;
        IndirectAllowed = indirect;
    }

    public int Index { get; }

    public ushort Size { get; }

    public ulong DescriptorTable { get; }

    public ulong AvailRing { get; }

    public ulong UsedRing { get; }

    public ushort Vector { get; }

    public bool EventIdx { get; }

    public bool IndirectAllowed { get; }

    /// <summary>The next available ring slot the device will consume (free-running, mod 2^16).</summary>
    public ushort LastAvail { get; private set; }

    /// <summary>The used ring's <c>idx</c> as the device last published it.</summary>
    public ushort UsedIdx { get; private set; }

    private ulong AvailIdxAddress => AvailRing + 2;

    private ulong UsedEventAddress => AvailRing + 4 + 2UL * Size;

    private ulong UsedIdxAddress => UsedRing + 2;

    private ulong AvailEventAddress => UsedRing + 4 + 8UL * Size;

    /// <summary>Bytes of each ring area for <paramref name="size"/> entries (2.7 "Virtqueue Part Sizes"), event fields included.</summary>
    public static (ulong Descriptors, ulong Avail, ulong Used) AreaSizes(ushort size) =>
        (VirtqDescriptor.Size * (ulong)size, 6 + 2UL * size, 6 + 8UL * size);

    /// <summary>
    /// Takes the next available chain's head: <see cref="VirtqueueError.None"/> with
    /// <paramref name="head"/> set, or <paramref name="empty"/> when the driver has published nothing new.
    /// </summary>
    public VirtqueueError TryPop(out ushort head, out bool empty)
    {
        head = 0;
        empty = false;
        if (!_memory.TryRead(AvailIdxAddress, out ushort availIdx)) return VirtqueueError.RingOutsideMemory;
        ushort pending = (ushort)(availIdx - LastAvail);
        if (pending == 0)
        {
            empty = true;
            return VirtqueueError.None;
        }
        // A driver adds at most `size` chains before the device consumes them (2.7.13.3).
        if (pending > Size) return VirtqueueError.AvailIndexTooFar;
        Interlocked.MemoryBarrier(); // virtio_rmb: the entry after the idx that covers it
        if (!_memory.TryRead(AvailRing + 4 + 2UL * (ushort)(LastAvail % Size), out ushort entry)) return VirtqueueError.RingOutsideMemory;
        if (entry >= Size) return VirtqueueError.HeadOutOfRange;
        LastAvail++;
        head = entry;
        return VirtqueueError.None;
    }

    /// <summary>Whether the driver has published chains the device has not taken (a ring outside RAM counts as work, so TryPop reports it).</summary>
    public bool HasAvailable() => !_memory.TryRead(AvailIdxAddress, out ushort availIdx) || availIdx != LastAvail;

    /// <summary>Returns chain <paramref name="head"/> with <paramref name="written"/> bytes written into its device-writable buffers (2.7.8.2).</summary>
    public bool TryPushUsed(ushort head, uint written)
    {
        ulong slot = UsedRing + 4 + 8UL * (ushort)(UsedIdx % Size);
        bool ok = _memory.TryWrite(slot, head | ((ulong)written << 32));
        Interlocked.MemoryBarrier(); // virtio_wmb: the element before the idx that publishes it
        UsedIdx++;
        return _memory.TryWrite(UsedIdxAddress, UsedIdx) && ok;
    }

    /// <summary>
    /// Whether the driver wants an interrupt for used entries published since <paramref name="usedBefore"/>:
    /// with EVENT_IDX, when <c>used_event</c> lies in that range (2.7.10); otherwise unless it set
    /// VIRTQ_AVAIL_F_NO_INTERRUPT (2.7.7).
    /// </summary>
    public bool WantsInterrupt(ushort usedBefore)
    {
        Interlocked.MemoryBarrier(); // virtio_mb: the published idx before the driver's suppression is read
        if (EventIdx)
            return !_memory.TryRead(UsedEventAddress, out ushort usedEvent) || NeedEvent(usedEvent, UsedIdx, usedBefore);
        return !_memory.TryRead(AvailRing, out ushort flags) || (flags & AvailNoInterrupt) == 0;
    }

    /// <summary>
    /// Tells the driver whether to notify (2.7.7, 2.7.10). Suppressed while the device polls: with
    /// EVENT_IDX, <c>avail_event</c> = next slot − 1, which Linux's <c>vring_need_event</c> never passes
    /// for the chains it adds (NVMe EventIdx's "tail − 1"); otherwise VIRTQ_USED_F_NO_NOTIFY. Armed
    /// (<paramref name="suppress"/> false): <c>avail_event</c> = the next slot the device expects, so the
    /// driver's next addition rings; or the flag cleared. Writes only when the value changes.
    /// </summary>
    public void PublishNotificationSuppression(bool suppress)
    {
        int value = EventIdx ? (ushort)(suppress ? LastAvail - 1 : LastAvail) : (suppress ? UsedNoNotify : 0);
        if (value == _publishedSuppression) return;
        _publishedSuppression = value;
        if (EventIdx) _memory.TryWrite(AvailEventAddress, (ushort)value);
        else _memory.TryWrite(UsedRing, (ushort)value);
    }

    /// <summary>vring_need_event: whether <paramref name="eventIdx"/> lies in (old, new] (mod 2^16).</summary>
    public static bool NeedEvent(ushort eventIdx, ushort newIdx, ushort oldIdx) => (ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - oldIdx);
}
