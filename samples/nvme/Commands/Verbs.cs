using System.CommandLine;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>The verbs beside the default workload: each is built by the team that owns it.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> Create()
    {
        // RUNTIME: ns per guest doorbell write in trap, ioeventfd and guest-store modes (the seed's demo).
        yield return DoorbellsCommand.Create();
        // QEMU: the real Linux nvme driver and fio against this controller through QEMU's proxy, beside QEMU's own nvme.
        yield return LinuxCommand.Create();
    }
}
