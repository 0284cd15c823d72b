namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>One fio job on one peer, with the MMIO doorbell writes that reached the device meanwhile.</summary>
internal sealed record JobResult(FioJob Job, FioResult Fio, int ExitCode, long DoorbellWrites)
{
    public double DoorbellsPerIo => Fio.IoCount == 0 ? 0 : (double)DoorbellWrites / Fio.IoCount;

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
    /// <summary>Controller-side facts (the ShadowIo peer only).</summary>
    public ControllerObservation? Controller { get; init; }

    public JobResult? Find(string job) => Jobs.FirstOrDefault(j => j.Job.Name == job);
}

/// <summary>What the sample controller saw of the Linux driver.</summary>
internal sealed record ControllerObservation(
    ulong? DoorbellBufferShadow,
    ulong? DoorbellBufferEventIdx,
    long CommandsFetched,
    long CompletionsPosted,
    long InvalidDoorbellWrites,
    long ShadowRereadHits,
    long InternalErrors,
    long MmioDoorbellWrites,
    long ControllerSleeps,
    string ProxyStatistics,
    int GuestMemoryRegions);

/// <summary>Both peers of one comparison run.</summary>
internal sealed record ComparisonResult(PeerResult ShadowIo, PeerResult Qemu);
