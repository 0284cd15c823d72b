namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>The size of one mode's run of the workload.</summary>
internal sealed record WorkloadSettings
{
    /// <summary>4 KiB blocks written, read back and verified at each queue depth.</summary>
    public int Blocks { get; init; } = 4096;

    /// <summary>Depth of the second measured phase (the first runs at depth 1).</summary>
    public int QueueDepth { get; init; } = 32;

    /// <summary>Times the whole write/read/verify cycle runs at each depth; rates are the best round's.</summary>
    public int Rounds { get; init; } = 1;

    /// <summary>
    /// How long the event-driven controller thread keeps polling its eventfds after a doorbell
    /// before it sleeps in epoll (zero: sleep at once).
    /// </summary>
    public TimeSpan EventSpin { get; init; } = TimeSpan.FromMicroseconds(50);

    /// <summary>
    /// EventIdx mode: how long the polling controller thread finds no work before it arms
    /// EventIdx and sleeps until the guest rings (the harness stages data between phases).
    /// </summary>
    public TimeSpan PollIdle { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Where the controller runs: in this process or in a vfio-user device process.</summary>
    public WorkloadTransport Transport { get; init; } = WorkloadTransport.InProcess;

    /// <summary>A file backing the namespace, or null for memory.</summary>
    public string? BackingFile { get; init; }

    /// <summary>How long the guest waits for one completion before it gives up, in TSC ticks.</summary>
    public ulong CompletionTimeoutTscTicks { get; init; } = 20_000_000_000;
}
