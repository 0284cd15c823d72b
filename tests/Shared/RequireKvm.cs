using ShadowIo.Kvm;
using Xunit;

namespace ShadowIo.Tests;

/// <summary>
/// Tests that run a real guest skip only when the machine has no /dev/kvm, saying so. One file,
/// linked into every test project that runs guests (their .csproj: Compile Include="../Shared/…").
/// </summary>
internal static class RequireKvm
{
    public static void Present() =>
        Assert.SkipUnless(KvmSystem.IsPresent(), $"{KvmSystem.DefaultPath} is absent: this test runs a real guest on KVM.");
}
