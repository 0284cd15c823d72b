using Xunit;

namespace ShadowIo.Linux.Tests.Guest;

/// <summary>QEMU TCG guests take a core each: run them one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QemuGuestCollection
{
    public const string Name = "QEMU guests";
}
