using Xunit;

namespace ShadowIo.Linux.Tests.Qemu.Support;

/// <summary>
/// Tests that count this process's open descriptors (to prove received fds are closed) must
/// not run beside tests that open descriptors of their own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FdAccountingCollection
{
    public const string Name = "fd accounting";
}
