using ShadowIo.Kvm;
using Xunit;

namespace ShadowIo.Virtio.Tests.EndToEnd;

/// <summary>End-to-end tests run a real guest: they skip only on a machine without /dev/kvm.</summary>
internal static class KvmRequirement
{
    public static void Present() =>
        Assert.SkipUnless(KvmSystem.IsPresent(), $"{KvmSystem.DefaultPath} is absent: this test runs a real guest on KVM.");
}
