namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>Where the NVMe controller of the workload runs.</summary>
internal enum WorkloadTransport
{
    /// <summary>In the VMM's own process, on its MMIO bus.</summary>
    InProcess,

    /// <summary>In a device process this program spawns, served over vfio-user to our VMM's client.</summary>
    VfioUser,
}

internal static class WorkloadTransports
{
    public static IReadOnlyList<WorkloadTransport> All { get; } = [WorkloadTransport.InProcess, WorkloadTransport.VfioUser];

    /// <summary>The name used on the command line, in the table and in JSON.</summary>
    public static string Name(this WorkloadTransport transport) => transport switch
    {
        WorkloadTransport.InProcess => "in-process",
        WorkloadTransport.VfioUser => "vfio-user",
        _ => transport.ToString(),
    };

    public static bool TryParse(string text, out WorkloadTransport transport) =>
        CommandLineNames.TryParse(All, static m => m.Name(), text, out transport);
}
