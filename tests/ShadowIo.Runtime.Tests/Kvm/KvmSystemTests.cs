using ShadowIo.Kvm;
using ShadowIo.Runtime.Tests.Support;

namespace ShadowIo.Runtime.Tests.Kvm;

public sealed unsafe class KvmSystemTests
{
    [Fact]
    public void Opening_kvm_reports_the_stable_api_the_ioeventfd_capability_and_the_vcpu_mapping_size()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();

        Assert.Equal(KvmSystem.StableApiVersion, kvm.ApiVersion);
        Assert.True(kvm.HasCapability(KvmCapability.IoEventFd));
        Assert.True(kvm.HasCapability(KvmCapability.UserMemory));
        Assert.True(kvm.VcpuMmapSize >= 4096);
        Assert.NotEmpty(kvm.GetSupportedCpuid().ToArray());
    }

    [Fact]
    public void A_missing_device_is_a_clear_error_naming_the_path()
    {
        var error = Assert.Throws<KvmException>(() => KvmSystem.Open("/dev/no-such-kvm"));

        Assert.Equal(KvmError.DeviceMissing, error.Error);
        Assert.Contains("/dev/no-such-kvm does not exist", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("errno", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_that_is_not_a_kvm_device_is_named_as_such()
    {
        var error = Assert.Throws<KvmException>(() => KvmSystem.Open("/dev/null"));

        Assert.Equal(KvmError.DeviceMissing, error.Error);
        Assert.StartsWith("/dev/null is not a KVM device", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_the_user_may_not_open_is_a_clear_permission_error()
    {
        // sysfs refuses O_RDWR on this read-only attribute even to root: the same EACCES a non-member of 'kvm' gets.
        const string readOnly = "/sys/kernel/notes";
        Assert.SkipUnless(File.Exists(readOnly), $"{readOnly} is absent (no sysfs); nothing to open without permission.");

        var error = Assert.Throws<KvmException>(() => KvmSystem.Open(readOnly));

        Assert.Equal(KvmError.PermissionDenied, error.Error);
        Assert.StartsWith($"Permission denied opening {readOnly}", error.Message, StringComparison.Ordinal);
        Assert.Contains("kvm", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_capability_is_named_with_what_needed_it()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        const KvmCapability Invented = (KvmCapability)100_000;

        var error = Assert.Throws<KvmException>(() => kvm.RequireCapability(Invented, "a test"));

        Assert.Equal(KvmError.Unsupported, error.Error);
        Assert.Contains("needed for a test", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void This_kernel_answers_post_write_with_einval_which_reads_as_unsupported()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var guestRam = MemoryMapping.CreateAnonymous(4096);
        int efd = Tmds.Linux.LibC.eventfd(0, 0);
        try
        {
            var registration = new IoEventFdRegistration(0xFEB0_0000, 4, efd) { PostAddress = (nint)guestRam.Pointer };
            if (vm.SupportsIoEventFdPostWrite)
            {
                vm.AssignIoEventFd(registration);
                vm.DeassignIoEventFd(registration);
                return;
            }
            var error = Assert.Throws<KvmException>(() => vm.AssignIoEventFd(registration));
            Assert.Equal(KvmError.Unsupported, error.Error);
            Assert.Equal(22, error.Errno);
            Assert.Contains("post-write", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Tmds.Linux.LibC.close(efd);
        }
    }

    [Fact]
    public void A_duplicate_ioeventfd_is_reported_as_already_registered()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        int efd = Tmds.Linux.LibC.eventfd(0, 0);
        try
        {
            var registration = new IoEventFdRegistration(0xFEB0_0000, 4, efd);
            vm.AssignIoEventFd(registration);
            var error = Assert.Throws<KvmException>(() => vm.AssignIoEventFd(registration));
            Assert.Equal(KvmError.AlreadyExists, error.Error);
            vm.DeassignIoEventFd(registration);
        }
        finally
        {
            Tmds.Linux.LibC.close(efd);
        }
    }
}
