using ShadowIo.Kvm;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>One mode's run of the workload: a CPL3 guest drives the NVMe controller on /dev/kvm.</summary>
internal static class NvmeWorkload
{
    public static ModeResult Run(KvmSystem kvm, WorkloadMode mode, WorkloadSettings settings, IWorkloadProgress? progress)
    {
        ArgumentNullException.ThrowIfNull(kvm);
        ArgumentNullException.ThrowIfNull(settings);
        progress?.Step(mode, 0, 1, "waiting for the controller");
        return new ModeResult { Mode = mode, Supported = false, UnsupportedReason = "the NVMe controller is not wired yet" };
    }
}
