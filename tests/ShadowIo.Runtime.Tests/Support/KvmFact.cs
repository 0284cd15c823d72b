using ShadowIo.Kvm;

namespace ShadowIo.Runtime.Tests.Support;

/// <summary>Tests that run a real guest skip only when the machine has no /dev/kvm.</summary>
internal static class RequireKvm
{
    public static void Present() =>
        Assert.SkipUnless(KvmSystem.IsPresent(), $"{KvmSystem.DefaultPath} is absent: this test runs a real guest on KVM.");
}
