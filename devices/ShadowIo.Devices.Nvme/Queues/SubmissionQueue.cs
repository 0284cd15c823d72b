namespace ShadowIo.Devices.Nvme;

/// <summary>
/// A submission queue: a physically contiguous ring in guest memory the host fills. The host
/// moves the tail through its doorbell (MMIO or shadow); the controller owns the head.
/// </summary>
internal sealed class SubmissionQueue(ushort id, ulong baseAddress, int size, CompletionQueue completionQueue)
{
    public ushort Id { get; } = id;
    public ulong BaseAddress { get; } = baseAddress;
    public int Size { get; } = size;
    public CompletionQueue CompletionQueue { get; } = completionQueue;

    public int Head { get; private set; }

    /// <summary>Last valid tail the host reported.</summary>
    public int Tail { get; set; }

    /// <summary>Last EventIdx written for this queue (−1: none yet), so polling does not rewrite an unchanged value.</summary>
    public int PublishedEventIdx { get; set; } = -1;

    /// <summary>Fetched commands of this queue not yet completed, by command identifier.</summary>
    public OutstandingCommands Outstanding { get; } = new();

    public bool IsEmpty => Head == Tail;

    public ulong HeadAddress => BaseAddress + (ulong)Head * SubmissionEntry.Size;

    public void Advance() => Head = (Head + 1) % Size;
}
