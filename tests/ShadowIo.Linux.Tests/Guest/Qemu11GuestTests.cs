using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.LinuxGuest;
using Xunit;

namespace ShadowIo.Linux.Tests.Guest;

/// <summary>QEMU 11.1 from the trixie root that guest/qemu-root.sh builds, run chrooted through the same runner, slot and stall detection as Debian's 7.2.</summary>
[Collection(QemuGuestCollection.Name)]
public sealed class Qemu11GuestTests
{
    [Fact]
    public async Task The_root_holds_QEMU_11_1_with_the_vfio_user_pci_client()
    {
        var root = await RepositoryGuest.QemuRootAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith("1:11.1.", root.QemuVersion, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(root.Directory, root.QemuPath.TrimStart('/'))));
        var help = await ScriptRunner.RunAsync("chroot", [root.Directory, root.QemuPath, "-device", "help"], TimeSpan.FromMinutes(1), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains("name \"vfio-user-pci\"", help.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Debian_guest_kernel_boots_under_QEMU_11_1_and_runs_its_script()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = await RepositoryGuest.QemuRootAsync(ct);
        var image = await RepositoryGuest.ImageAsync(ct);

        var result = await RepositoryGuest.RunAsync(new LinuxGuestOptions
        {
            QemuRoot = root,
            // SMBIOS type 1 carries the machine type, so the guest itself says which QEMU ran it.
            Script = "uname -r\ncat /sys/class/dmi/id/product_version\ncat /etc/shadowio-test.txt\nexit 5\n",
            Files = [GuestFile.FromText("/etc/shadowio-test.txt", "overlay file arrived\n")],
            Timeout = TimeSpan.FromMinutes(3),
        }, ct);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal([image.KernelRelease, "pc-i440fx-11.1", "overlay file arrived"], result.Lines);
        // The run's kernel and initramfs copies inside the root are gone with the run.
        Assert.Empty(Directory.GetDirectories(Path.Combine(root.Directory, "run", "shadowio"), $"{Environment.ProcessId}-*"));
    }

    [Fact]
    public async Task A_guest_panic_under_QEMU_11_1_ends_the_run_at_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = await RepositoryGuest.QemuRootAsync(ct);

        var error = await Assert.ThrowsAsync<GuestStalledException>(() => RepositoryGuest.RunAsync(new LinuxGuestOptions
        {
            QemuRoot = root,
            Script = "echo c > /proc/sysrq-trigger\nsleep 3600\n",
            Timeout = TimeSpan.FromMinutes(4),
        }, ct));

        Assert.Contains("Kernel panic - not syncing: sysrq triggered crash", error.StallLine, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_guest_stopped_at_its_timeout_reports_what_the_firmware_logged()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = await RepositoryGuest.QemuRootAsync(ct);

        // Eight seconds from QEMU's start (SeaBIOS takes about one under TCG): the firmware has handed over to the kernel, /init is not reached
        // or sleeps. The kernel boots quiet, so the firmware's debug port is what says how far it got.
        var error = await Assert.ThrowsAsync<TimeoutException>(() => RepositoryGuest.RunAsync(new LinuxGuestOptions
        {
            QemuRoot = root,
            Script = "sleep 600\n",
            Timeout = TimeSpan.FromSeconds(8),
        }, ct));

        Assert.Contains("firmware log tail:", error.Message, StringComparison.Ordinal);
        Assert.Contains("Booting from ROM", error.Message, StringComparison.Ordinal);
    }
}
