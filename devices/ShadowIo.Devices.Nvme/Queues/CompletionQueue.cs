namespace ShadowIo.Devices.Nvme;

/// <summary>
/// A completion queue: a physically contiguous ring in guest memory the controller writes.
/// The controller owns the tail and phase; the host moves the head through its doorbell.
/// </summary>
internal sealed class CompletionQueue(ushort id, ulong baseAddress, int size, bool interruptsEnabled, int vector)
{
    public ushort Id { get; } = id;
    public ulong BaseAddress { get; } = baseAddress;
    public int Size { get; } = size;
    public bool InterruptsEnabled { get; } = interruptsEnabled;
    public int Vector { get; } = vector;

    /// <summary>Last valid head the host reported.</summary>
    public int Head { get; set; }

    public int Tail { get; private set; }

    /// <summary>Phase tag of the next entry: starts at 1 and inverts on every wrap (section 4.6).</summary>
    public bool Phase { get; private set; } = true;

    /// <summary>Entries posted since the last interrupt request for this queue.</summary>
    public bool InterruptPending { get; set; }

    /// <summary>Submission queues that post here: a CQ in use cannot be deleted.</summary>
    public int SubmissionQueueCount { get; set; }

    /// <summary>One slot always stays empty so that full and empty differ (section 4.1.2).</summary>
    public bool IsFull => (Tail + 1) % Size == Head;

    public ulong TailAddress => BaseAddress + (ulong)Tail * CompletionEntry.Size;

    public void Advance()
    {
        Tail++;
        if (Tail == Size)
        {
            Tail = 0;
            Phase = !Phase;
        }
    }
}
