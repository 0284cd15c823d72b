namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// One pass of the guest driver over a queue pair: submit <see cref="Count"/> prepared entries
/// from <see cref="CommandTable"/> keeping at most <see cref="Depth"/> in flight, reap every
/// completion by its phase bit, and ring the doorbells the way <see cref="Policy"/> says.
/// </summary>
internal sealed record QueueJob
{
    public required ushort QueueId { get; init; }
    public required ulong SubmissionQueue { get; init; }
    public required ulong CompletionQueue { get; init; }

    /// <summary>Entries in both queues of the pair (the SQ holds at most one fewer in flight).</summary>
    public required int Entries { get; init; }

    /// <summary>Tail, head and phase words the guest keeps between runs (<see cref="WorkloadLayout.QueueStateSize"/>).</summary>
    public required ulong StateAddress { get; init; }

    public required ulong CommandTable { get; init; }
    public required int Count { get; init; }
    public required int Depth { get; init; }
    public required DoorbellPolicy Policy { get; init; }

    /// <summary>The Doorbell Buffer Config pages; used only by the shadow policies.</summary>
    public ulong ShadowPage { get; init; }
    public ulong EventIndexPage { get; init; }

    // NVMe 2.0 §3.1.3.18/19 with CAP.DSTRD = 0: SQ y tail doorbell at 0x1000 + 8y, CQ y head at +4.
    // The shadow and EventIdx pages mirror that layout from offset 0 (Doorbell Buffer Config).
    public int SubmissionDoorbellOffset => 0x1000 + 8 * QueueId;
    public int CompletionDoorbellOffset => 0x1004 + 8 * QueueId;
    public int SubmissionShadowOffset => 8 * QueueId;
    public int CompletionShadowOffset => 8 * QueueId + 4;

    public void Validate()
    {
        if (Entries < 2 || Entries > 65536) throw new ArgumentOutOfRangeException(nameof(Entries), Entries, "A queue has 2..65536 entries.");
        if (Depth < 1 || Depth > Entries - 1) throw new ArgumentOutOfRangeException(nameof(Depth), Depth, $"Depth must be 1..{Entries - 1} for a {Entries}-entry queue.");
        if (Count < 0) throw new ArgumentOutOfRangeException(nameof(Count), Count, "Count must not be negative.");
        if (Policy != DoorbellPolicy.Mmio && (ShadowPage == 0 || EventIndexPage == 0))
            throw new ArgumentException("Shadow policies need the Doorbell Buffer Config pages.");
    }
}
