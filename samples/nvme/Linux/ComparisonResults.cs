namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// One fio job on one peer, with the MMIO doorbell writes that reached the device meanwhile and the
/// disk's interrupts the guest kernel counted (null when the guest printed no counts).
/// </summary>
internal sealed record JobResult(FioJob Job, FioResult Fio, int ExitCode, long DoorbellWrites, long? GuestInterrupts)
{
    public double DoorbellsPerIo => Fio.IoCount == 0 ? 0 : (double)DoorbellWrites / Fio.IoCount;

    public double? InterruptsPerIo => GuestInterrupts is { } n && Fio.IoCount > 0 ? (double)n / Fio.IoCount : null;

    public bool Succeeded => ExitCode == 0 && Fio.Error == 0 && Fio.IoCount > 0;
}

/// <summary>What one peer did in the guest.</summary>
internal sealed record PeerResult(
    string Peer,
    IReadOnlyList<JobResult> Jobs,
    IdentifyReport? Identify,
    bool? RoundTripOk,
    string Output,
    TimeSpan Elapsed)
{
    /// <summary>
    /// From the guest's start to the end of its last measured job: boot, setup and the measured
    /// jobs, the part both peers run alike (ours also runs the round trip and the verifying jobs
    /// after it, which <see cref="Elapsed"/> includes). Null when the console never showed that end.
    /// </summary>
    public TimeSpan? MeasuredPhase { get; init; }

    /// <summary>MSI-X interrupts the server signalled (the vfio-user peer only).</summary>
    public long? InterruptsDelivered { get; init; }

    /// <summary>Timed naps of the idle controller thread (mapped doorbells; 0 otherwise).</summary>
    public long ControllerNaps { get; init; }

    /// <summary>Controller-side facts (the ShadowIo peer only).</summary>
    public ControllerObservation? Controller { get; init; }

    /// <summary>Device-side facts (the ShadowIo virtio-blk peer only).</summary>
    public VirtioObservation? Virtio { get; init; }

    /// <summary>What the guest kernel logged during the round trip and fio (empty and marker-less when not run).</summary>
    public IoPhaseKernelLog KernelLog { get; init; } = new(false, []);

    public JobResult? Find(string job) => Jobs.FirstOrDefault(j => j.Job.Name == job);

    /// <summary>
    /// Several runs of one peer folded into one: each job's best run by IOPS (a 2-core machine
    /// shared with other work makes single TCG runs noisy); data checks must hold in every run.
    /// </summary>
    public static PeerResult Best(IReadOnlyList<PeerResult> runs)
    {
        var first = runs[0];
        var jobs = first.Jobs.Select(j => runs.Select(r => r.Find(j.Job.Name)).OfType<JobResult>()
            .OrderByDescending(r => r.Succeeded).ThenByDescending(r => r.Fio.Iops).First()).ToArray();
        bool? roundTrip = first.RoundTripOk is null ? null : runs.All(r => r.RoundTripOk == true);
        bool allSucceeded = runs.All(r => r.Jobs.All(j => j.Succeeded));
        return first with
        {
            Jobs = allSucceeded ? jobs : runs.SelectMany(r => r.Jobs).Where(j => !j.Succeeded).Concat(jobs).DistinctBy(j => j.Job.Name).ToArray(),
            RoundTripOk = roundTrip,
            KernelLog = IoPhaseKernelLog.Combine(runs.Select(r => r.KernelLog)),
            Elapsed = TimeSpan.FromTicks(runs.Sum(r => r.Elapsed.Ticks)),
            MeasuredPhase = runs.All(r => r.MeasuredPhase != null) ? TimeSpan.FromTicks(runs.Sum(r => r.MeasuredPhase!.Value.Ticks)) : null,
            Rounds = runs.Count,
        };
    }

    /// <summary>How many runs were folded into this result.</summary>
    public int Rounds { get; init; } = 1;
}

/// <summary>What the sample controller saw of the Linux driver.</summary>
internal sealed record ControllerObservation(
    ulong? DoorbellBufferShadow,
    ulong? DoorbellBufferEventIdx,
    CommandAccounting Commands,
    long InvalidDoorbellWrites,
    long ShadowRereadHits,
    long InternalErrors,
    long MmioDoorbellWrites,
    long ControllerSleeps,
    string LinkStatistics,
    int GuestMemoryRegions);

/// <summary>Both peers of one comparison run.</summary>
internal sealed record ComparisonResult(PeerResult ShadowIo, PeerResult Qemu);

/// <summary>
/// What the virtio-blk device saw of Linux's virtio_blk driver (its counters at the end of the run).
/// <see cref="Notifications"/> counts the notify doorbells the device thread was woken by (one per
/// fired row per wake-up, in either runner mode); <see cref="NotifyWrites"/> counts every notify write
/// that reached the server, the per-I/O figure of the table.
/// </summary>
internal sealed record VirtioObservation(
    long Notifications,
    long RequestsCompleted,
    long RequestsFailed,
    long RequestsUnsupported,
    long InterruptsRequested,
    long InterruptsSuppressed,
    long RearmRereadHits,
    long NeedsResetRaised,
    string NeedsResetReason,
    long InternalErrors,
    long NotifyWrites,
    long DeviceThreadSleeps,
    string Link);
