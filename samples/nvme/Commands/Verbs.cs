using System.CommandLine;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>The verbs beside the default workload: each is built by the team that owns it.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> Create()
    {
        // QEMU 11.1: Linux's nvme and virtio_blk drivers and fio on our devices over vfio-user, beside QEMU's own devices.
        yield return LinuxCommand.Create();
        // The device process of --transport vfio-user (hidden: this program starts it itself).
        yield return NvmeDeviceCommand.Create();
    }
}
