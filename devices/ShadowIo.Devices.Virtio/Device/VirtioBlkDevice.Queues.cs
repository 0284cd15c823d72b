namespace ShadowIo.Devices.Virtio;

/// <summary>
/// Queue processing: taking chains from the available ring, executing the requests, publishing
/// used elements, interrupts (2.7.7, 2.7.10), the notification hand-over with a polling thread, and
/// DEVICE_NEEDS_RESET for rings the device cannot use (2.1.2).
/// </summary>
public sealed partial class VirtioBlkDevice
{
    /// <summary>
    /// Serves <paramref name="q"/> until its available ring is empty. Not polling, the device then
    /// arms notifications (EVENT_IDX: <c>avail_event</c> = next slot) and re-reads the available
    /// index: a driver that added a chain after the last read saw the old suppression and did not
    /// notify, so that chain is served now. Returns the requests completed.
    /// </summary>
    private int ProcessQueue(SplitVirtqueue q)
    {
        if (!IsLive || _queues[q.Index] != q) return 0;
        ushort usedBefore = q.UsedIdx;
        int done = 0;
        while (true)
        {
            while (true)
            {
                var error = q.TryPop(out ushort head, out bool empty);
                if (error != VirtqueueError.None)
                {
                    RaiseNeedsReset(error);
                    return done;
                }
                if (empty) break;
                error = DescriptorChain.Walk(_memory, q.DescriptorTable, q.Size, head, q.IndirectAllowed, _segments, out int count);
                if (error == VirtqueueError.None && !CompleteRequest(q, head, count)) error = VirtqueueError.NoStatusByte;
                if (error != VirtqueueError.None)
                {
                    RaiseNeedsReset(error);
                    return done;
                }
                done++;
            }
            q.PublishNotificationSuppression(_isPolling);
            if (_isPolling) break;
            Interlocked.MemoryBarrier(); // avail_event armed before the re-read
            if (!q.HasAvailable()) break;
            Counters.RearmRereadHits++;
        }
        if (done > 0) SignalUsed(q, usedBefore);
        return done;
    }

    private bool CompleteRequest(SplitVirtqueue q, ushort head, int count)
    {
        if (!_executor.TryExecute(_segments.AsSpan(0, count), out var outcome)) return false;
        switch (outcome.Status)
        {
            case VirtioBlkStatus.Ok when outcome.Type == VirtioBlkRequestType.In: Counters.BytesRead += outcome.DataBytes; break;
            case VirtioBlkStatus.Ok when outcome.Type == VirtioBlkRequestType.Out: Counters.BytesWritten += outcome.DataBytes; break;
            case VirtioBlkStatus.IoError: Counters.RequestsFailed++; break;
            case VirtioBlkStatus.Unsupported: Counters.RequestsUnsupported++; break;
        }
        // The used ring is the driver's own memory at an address validated at enable; if the map changed
        // under it the element is lost, and the ring is no longer usable.
        if (!q.TryPushUsed(head, outcome.Written)) return false;
        Counters.RequestsCompleted++;
        UsedElementPublished?.Invoke(q.Index, q.Size, head, outcome.Written);
        return true;
    }

    /// <summary>Interrupts for used elements published since <paramref name="usedBefore"/>, unless the driver suppressed them.</summary>
    private void SignalUsed(SplitVirtqueue q, ushort usedBefore)
    {
        if (!q.WantsInterrupt(usedBefore))
        {
            Counters.InterruptsSuppressed++;
            return;
        }
        Isr.IsrStatusQueueInterrupt = true;
        RequestInterrupt(q.Vector);
    }

    private void RequestInterrupt(ushort vector)
    {
        Counters.InterruptsRequested++;
        InterruptRequested?.Invoke(vector);
    }

    /// <summary>
    /// DEVICE_NEEDS_RESET (2.1.2): the device stops using its queues until the driver resets it and,
    /// if DRIVER_OK is set, sends a configuration-change notification.
    /// </summary>
    private void RaiseNeedsReset(VirtqueueError reason)
    {
        if (CommonConfig.DeviceStatusDeviceNeedsReset) return;
        NeedsResetReason = reason;
        Counters.NeedsResetRaised++;
        CommonConfig.DeviceStatusDeviceNeedsReset = true;
        if (!CommonConfig.DeviceStatusDriverOk) return;
        CommonConfig.ConfigGeneration++;
        Isr.IsrStatusDeviceConfigurationInterrupt = true;
        RequestInterrupt(CommonConfig.ConfigMsixVector);
    }
}
