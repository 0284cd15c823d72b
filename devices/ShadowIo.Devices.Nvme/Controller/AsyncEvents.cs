namespace ShadowIo.Devices.Nvme;

/// <summary>Asynchronous event types (completion DW0 bits 2:0).</summary>
internal enum AsyncEventType : byte
{
    ErrorStatus = 0,
    SmartHealthStatus = 1,
    Notice = 2,
}

/// <summary>Error status event information (completion DW0 bits 15:8).</summary>
internal enum AsyncErrorInfo : byte
{
    /// <summary>Write to a doorbell of a queue that does not exist.</summary>
    InvalidDoorbellRegister = 0x00,
    /// <summary>Doorbell value outside the queue (≥ its size).</summary>
    InvalidDoorbellWriteValue = 0x01,
}

/// <summary>One asynchronous event as it appears in an AER completion's DW0.</summary>
internal readonly record struct AsyncEvent(AsyncEventType Type, byte Info, byte LogPage)
{
    public uint Result => (uint)Type | ((uint)Info << 8) | ((uint)LogPage << 16);

    public static AsyncEvent Parse(uint result) => new((AsyncEventType)(result & 0x7), (byte)(result >> 8), (byte)(result >> 16));
}

/// <summary>
/// Outstanding Asynchronous Event Request commands and events not yet reported (section 5.2).
/// Events wait while no request is outstanding or the admin CQ is full; an event already
/// waiting is not queued twice, so a guest hammering a bad doorbell cannot grow this. Once an
/// event of a type is reported, that type is masked until the host reads its log page without
/// Retain Asynchronous Event (section 5.2.1; QEMU's aer_mask behaves the same way).
/// </summary>
internal sealed class AsyncEvents
{
    /// <summary>Identify AERL is 0's based: 4 outstanding requests.</summary>
    public const int RequestLimit = 4;
    private const int PendingLimit = 16;

    private readonly Queue<ushort> _requests = new(RequestLimit);
    private readonly List<AsyncEvent> _pending = new(PendingLimit);
    private int _maskedTypes;

    public int OutstandingRequests => _requests.Count;

    public int PendingEvents => _pending.Count;

    public bool TryAddRequest(ushort commandId)
    {
        if (_requests.Count >= RequestLimit) return false;
        _requests.Enqueue(commandId);
        return true;
    }

    public void Raise(AsyncEvent e)
    {
        if (_pending.Count >= PendingLimit || _pending.Contains(e)) return;
        _pending.Add(e);
    }

    /// <summary>Whether an outstanding request and an unmasked waiting event can be paired now.</summary>
    /// <remarks>Asked on every poll while a guest keeps AERs outstanding (Linux always does): no allocation.</remarks>
    public bool CanDeliver => _requests.Count > 0 && FirstUnmaskedEvent() >= 0;

    /// <summary>Pairs the oldest waiting event with the oldest outstanding request.</summary>
    public bool TryTakeMatch(out ushort commandId, out AsyncEvent e)
    {
        int index = _requests.Count == 0 ? -1 : FirstUnmaskedEvent();
        if (index < 0)
        {
            commandId = 0;
            e = default;
            return false;
        }
        commandId = _requests.Dequeue();
        e = _pending[index];
        _pending.RemoveAt(index);
        _maskedTypes |= 1 << (int)e.Type;
        return true;
    }

    /// <summary>The host read the log page of <paramref name="type"/> (RAE = 0): report that type again.</summary>
    public void Unmask(AsyncEventType type) => _maskedTypes &= ~(1 << (int)type);

    /// <summary>Index of the oldest waiting event whose type is not masked, or −1 (a loop, not a capturing lambda).</summary>
    private int FirstUnmaskedEvent()
    {
        for (int i = 0; i < _pending.Count; i++)
        {
            if (!IsMasked(_pending[i].Type)) return i;
        }
        return -1;
    }

    private bool IsMasked(AsyncEventType type) => (_maskedTypes & (1 << (int)type)) != 0;

    /// <summary>Controller reset: outstanding requests are dropped with the admin queue (section 3.7.2).</summary>
    public void Clear()
    {
        _requests.Clear();
        _pending.Clear();
        _maskedTypes = 0;
    }
}
