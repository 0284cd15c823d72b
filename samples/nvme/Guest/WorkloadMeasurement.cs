namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// Sums over every run of the I/O phases, and the best rate per queue depth (the machine is
/// shared: the best round is the one least disturbed by other work).
/// </summary>
internal sealed class WorkloadMeasurement
{
    private readonly Dictionary<int, double> _bestIops = [];
    private readonly List<(long Writes, long Ticks)> _doorbellsPerPhase = [];

    public WorkloadTotals Total { get; private set; } = new();

    /// <summary>Guest TSC ticks per host nanosecond, from every run so far (the guest reads the host's TSC).</summary>
    private double TicksPerNs => Total.TscTicks / Math.Max(1.0, Total.Elapsed.TotalNanoseconds);

    public void Add(int depth, GuestRun write, GuestRun read, bool measureRate = true)
    {
        foreach (var run in (GuestRun[])[write, read])
        {
            var s = run.Statistics;
            Total = Total with
            {
                Completions = Total.Completions + s.Completions,
                DoorbellWrites = Total.DoorbellWrites + s.DoorbellWrites,
                DoorbellTscTicks = Total.DoorbellTscTicks + s.DoorbellTscTicks,
                SuppressedDoorbells = Total.SuppressedDoorbells + s.SuppressedDoorbells,
                UserspaceExits = Total.UserspaceExits + run.UserspaceExits,
                TscTicks = Total.TscTicks + run.TscTicks,
                Elapsed = Total.Elapsed + run.Elapsed,
            };
            if (s.DoorbellWrites > 0) _doorbellsPerPhase.Add((s.DoorbellWrites, s.DoorbellTscTicks));
        }
        if (!measureRate) return;
        double iops = (write.Statistics.Completions + read.Statistics.Completions) / (write.Elapsed + read.Elapsed).TotalSeconds;
        _bestIops[depth] = Math.Max(_bestIops.GetValueOrDefault(depth), iops);
    }

    public double BestIops(int depth) => _bestIops.GetValueOrDefault(depth);

    /// <summary>The cheapest phase's mean doorbell cost (phases with a handful of writes are as noisy as they are rare).</summary>
    public double BestNsPerDoorbell
    {
        get
        {
            if (_doorbellsPerPhase.Count == 0) return 0;
            long most = _doorbellsPerPhase.Max(p => p.Writes);
            return _doorbellsPerPhase.Where(p => p.Writes * 4 >= most).Min(p => p.Ticks / (double)p.Writes) / TicksPerNs;
        }
    }
}

internal sealed record WorkloadTotals
{
    public long Completions { get; init; }
    public long DoorbellWrites { get; init; }
    public long DoorbellTscTicks { get; init; }
    public long SuppressedDoorbells { get; init; }
    public long UserspaceExits { get; init; }
    public long TscTicks { get; init; }
    public TimeSpan Elapsed { get; init; }
}
