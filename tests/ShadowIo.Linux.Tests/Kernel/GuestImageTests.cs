using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.LinuxGuest;
using Xunit;

namespace ShadowIo.Linux.Tests.Kernel;

/// <summary>The test guest itself: set-up, boot, the payload's output and exit code, and overlays.</summary>
public sealed class GuestImageTests
{
    [Fact]
    public async Task Guest_boots_runs_the_script_with_overlay_files_and_reports_its_exit_code()
    {
        var result = await RepositoryGuest.RunAsync(new LinuxGuestOptions
        {
            Script = "uname -r\ncat /etc/shadowio-test.txt\nfio --version\nnvme version | head -n1\nlsmod | cut -d' ' -f1 | grep -x nvme\nexit 7\n",
            Files = [GuestFile.FromText("/etc/shadowio-test.txt", "overlay file arrived\n")],
            Timeout = TimeSpan.FromMinutes(3),
        }, TestContext.Current.CancellationToken);

        var image = await RepositoryGuest.ImageAsync(TestContext.Current.CancellationToken);
        Assert.Equal(7, result.ExitCode);
        Assert.Equal(
            [image.KernelRelease, "overlay file arrived", "fio-3.33", "nvme version 2.3 (git 2.3)", "nvme"],
            result.Lines);
    }

    [Fact]
    public async Task A_guest_kernel_that_panics_ends_the_run_at_once_with_the_panic_on_the_console()
    {
        // sysrq-trigger 'c' is the one panic a script can cause; a soft lockup, an RCU stall and a
        // hung task reach the same path through the runner's softlockup_panic, panic_on_rcu_stall
        // and hung_task_panic. The run's limit is far away: only the stall detection ends it early.
        var error = await Assert.ThrowsAsync<GuestStalledException>(() => RepositoryGuest.RunAsync(new LinuxGuestOptions
        {
            Script = "echo c > /proc/sysrq-trigger\nsleep 3600\n",
            Timeout = TimeSpan.FromMinutes(4),
        }, TestContext.Current.CancellationToken));

        Assert.StartsWith("Kernel panic - not syncing: sysrq triggered crash", error.StallLine![error.StallLine!.IndexOf("Kernel panic", StringComparison.Ordinal)..], StringComparison.Ordinal);
        // panic() raises the console log level that /init lowered: the stack says where it stopped.
        Assert.Contains("sysrq_handle_crash", error.Message, StringComparison.Ordinal);
    }
}
