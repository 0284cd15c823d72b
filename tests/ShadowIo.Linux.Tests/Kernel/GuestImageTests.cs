using ShadowIo.Linux.Tests.Infrastructure;
using Xunit;

namespace ShadowIo.Linux.Tests.Kernel;

/// <summary>The test guest itself: set-up, boot, the payload's output and exit code, overlays.</summary>
public sealed class GuestImageTests
{
    [Fact]
    public async Task Guest_boots_runs_the_script_with_overlay_files_and_reports_its_exit_code()
    {
        var result = await LinuxGuest.RunAsync(new LinuxGuestOptions
        {
            Script = "uname -r\ncat /etc/shadowio-test.txt\nfio --version\nnvme version | head -n1\nlsmod | cut -d' ' -f1 | grep -x nvme\nexit 7\n",
            Files = [GuestFile.FromText("/etc/shadowio-test.txt", "overlay file arrived\n")],
            Timeout = TimeSpan.FromMinutes(3),
        }, TestContext.Current.CancellationToken);

        var image = await GuestImage.GetAsync(TestContext.Current.CancellationToken);
        Assert.Equal(7, result.ExitCode);
        Assert.Equal(
            [image.KernelRelease, "overlay file arrived", "fio-3.33", "nvme version 2.3 (git 2.3)", "nvme"],
            result.Lines);
    }
}
