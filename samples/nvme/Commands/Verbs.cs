using System.CommandLine;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>The verbs beside the default workload: each is built by the team that owns it.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> Create()
    {
        // QEMU: the real Linux nvme driver and fio against this controller through QEMU's proxy, beside QEMU's own nvme.
        yield return LinuxCommand.Create();
        // The device process of --transport vfio-user (hidden: this program starts it itself).
        yield return NvmeDeviceCommand.Create();
    }
}
