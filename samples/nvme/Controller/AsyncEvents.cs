namespace ShadowIo.Samples.Nvme;

/// <summary>Asynchronous event types (completion DW0 bits 2:0).</summary>
public enum AsyncEventType : byte
{
    ErrorStatus = 0,
    SmartHealthStatus = 1,
    Notice = 2,
}

/// <summary>Error status event information (completion DW0 bits 15:8).</summary>
public enum AsyncErrorInfo : byte
{
    /// <summary>Write to a doorbell of a queue that does not exist.</summary>
    InvalidDoorbellRegister = 0x00,
    /// <summary>Doorbell value outside the queue (≥ its size).</summary>
    InvalidDoorbellWriteValue = 0x01,
}

/// <summary>One asynchronous event as it appears in an AER completion's DW0.</summary>
public readonly record struct AsyncEvent(AsyncEventType Type, byte Info, byte LogPage)
{
    public uint Result => (uint)Type | ((uint)Info << 8) | ((uint)LogPage << 16);

    public static AsyncEvent Parse(uint result) => new((AsyncEventType)(result & 0x7), (byte)(result >> 8), (byte)(result >> 16));
}

/// <summary>
/// Outstanding Asynchronous Event Request commands and events not yet reported (section 5.2).
/// Events wait while no request is outstanding or the admin CQ is full; an event already
/// waiting is not queued twice, so a guest hammering a bad doorbell cannot grow this.
/// </summary>
internal sealed class AsyncEvents
{
    /// <summary>Identify AERL is 0's based: 4 outstanding requests.</summary>
    public const int RequestLimit = 4;
    private const int PendingLimit = 16;

    private readonly Queue<ushort> _requests = new(RequestLimit);
    private readonly Queue<AsyncEvent> _pending = new(PendingLimit);

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
        _pending.Enqueue(e);
    }

    /// <summary>Pairs the oldest waiting event with the oldest outstanding request.</summary>
    public bool TryTakeMatch(out ushort commandId, out AsyncEvent e)
    {
        if (_requests.Count == 0 || _pending.Count == 0)
        {
            commandId = 0;
            e = default;
            return false;
        }
        commandId = _requests.Dequeue();
        e = _pending.Dequeue();
        return true;
    }

    /// <summary>Controller reset: outstanding requests are dropped with the admin queue (section 3.7.2).</summary>
    public void Clear()
    {
        _requests.Clear();
        _pending.Clear();
    }
}
