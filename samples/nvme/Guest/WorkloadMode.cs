namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>How the guest's doorbell writes reach the controller in one run of the workload.</summary>
internal enum WorkloadMode
{
    /// <summary>Every doorbell write exits to the VMM, which stores the value and signals the controller.</summary>
    Trap,

    /// <summary>Doorbell Buffer Config shadow; the guest always rings, a wildcard ioeventfd signals without an exit.</summary>
    IoEventFd,

    /// <summary>Doorbell Buffer Config shadow and EventIdx: the controller polls and the guest rings only when asked.</summary>
    EventIdx,

    /// <summary>The kernel post-write ioeventfd (the revised KVM patch): the kernel stores the value, then signals.</summary>
    PostWrite,
}

internal static class WorkloadModes
{
    /// <summary>Every mode, in the order the demo runs and prints them.</summary>
    public static IReadOnlyList<WorkloadMode> All { get; } =
        [WorkloadMode.Trap, WorkloadMode.IoEventFd, WorkloadMode.EventIdx, WorkloadMode.PostWrite];

    /// <summary>The name used on the command line, in the table and in JSON.</summary>
    public static string Name(this WorkloadMode mode) => mode switch
    {
        WorkloadMode.Trap => "trap",
        WorkloadMode.IoEventFd => "ioeventfd",
        WorkloadMode.EventIdx => "eventidx",
        WorkloadMode.PostWrite => "post-write",
        _ => mode.ToString(),
    };

    public static bool TryParse(string text, out WorkloadMode mode) =>
        CommandLineNames.TryParse(All, static m => m.Name(), text, out mode);
}
