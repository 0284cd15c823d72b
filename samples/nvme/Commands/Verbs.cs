using System.CommandLine;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>The verbs beside the default workload: each is built by the team that owns it.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> Create()
    {
        yield break;
    }
}
