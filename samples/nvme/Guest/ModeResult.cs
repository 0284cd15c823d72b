namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>What one mode's run of the workload measured.</summary>
internal sealed record ModeResult
{
    public required WorkloadMode Mode { get; init; }

    /// <summary>False when this kernel cannot run the mode; <see cref="UnsupportedReason"/> says why.</summary>
    public bool Supported { get; init; } = true;
    public string? UnsupportedReason { get; init; }

    /// <summary>Read and Write commands completed (both queue depths).</summary>
    public long Ios { get; init; }

    /// <summary>Whether every block read back equals the pattern written to it.</summary>
    public bool Verified { get; init; }
    public long VerifiedBlocks { get; init; }
    public long Blocks { get; init; }

    /// <summary>MMIO doorbell writes the guest made during the I/O phases (it counts them itself).</summary>
    public long DoorbellWrites { get; init; }

    /// <summary>Doorbell updates the EventIdx rule let the guest skip (shadow store only).</summary>
    public long SuppressedDoorbells { get; init; }

    /// <summary>Exits to userspace during the I/O phases (the finish marker of each run not counted).</summary>
    public long UserspaceExits { get; init; }

    /// <summary>Exits to userspace while enabling the controller and creating queues.</summary>
    public long SetupExits { get; init; }

    /// <summary>Mean cost of one MMIO doorbell write as the guest timed it with the TSC.</summary>
    public double NsPerDoorbell { get; init; }

    public double IopsQd1 { get; init; }
    public double IopsHighDepth { get; init; }
    public int QueueDepth { get; init; }
}
