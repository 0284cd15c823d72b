using ShadowIo.Devices.Nvme;
using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.Linux.Tests.Guest;
using ShadowIo.Samples.Nvme.Linux;
using Xunit;

namespace ShadowIo.Linux.Tests.VfioUser;

/// <summary>
/// Linux's nvme driver (Debian 6.1 under QEMU 11.1 TCG) on the sample controller served over
/// vfio-user, with MSI-X interrupts: the driver's default parameters (no poll queues, its own
/// 30 s/60 s timeouts), fio completing by interrupt. Correctness only: speed is what the demo's
/// <c>linux</c> verb reports.
/// </summary>
[Collection(QemuGuestCollection.Name)]
public sealed class VfioUserNvmeDriverTests(ITestOutputHelper output)
{
    [Fact]
    public Task Linux_driver_nvme_cli_and_fio_run_by_interrupt_on_the_controller_served_over_vfio_user() =>
        RunAsync(DoorbellDelivery.RegionWrite);

    /// <summary>
    /// The same with BAR0's doorbell page mapped into the guest (a sparse mmap area over the shadow
    /// memfd): no doorbell store reaches the server as a message, the controller finds every one by
    /// polling, and the driver still sees no timeout, abort or reset.
    /// </summary>
    [Fact]
    public Task Linux_driver_runs_with_the_doorbell_page_mapped_into_the_guest_and_polled() =>
        RunAsync(DoorbellDelivery.Mapped);

    private async Task RunAsync(DoorbellDelivery doorbells)
    {
        var ct = TestContext.Current.CancellationToken;
        var comparison = new LinuxComparison
        {
            Image = await RepositoryGuest.ImageAsync(ct),
            RuntimeSeconds = 3,
            Doorbells = doorbells,
            // Region writes: the controller thread sleeps as soon as it is idle, so every I/O rings and
            // takes the sleep/wake hand-over (EventIdx armed, re-read) that a spinning thread skips.
            Spin = TimeSpan.Zero,
            Log = line => { if (!line.StartsWith('{') && !line.StartsWith(' ')) output.WriteLine(line); },
        };
        var ours = await comparison.RunShadowIoVfioUserAsync(await RepositoryGuest.QemuRootAsync(ct), ct);
        output.WriteLine($"controller: {ours.Controller}");
        output.WriteLine($"kernel log during I/O: {ours.KernelLog.Summary}");
        foreach (var line in ours.KernelLog.Lines) output.WriteLine($"  {line}");
        foreach (var job in ours.Jobs) output.WriteLine($"{job.Job.Name}: rc {job.ExitCode}, {job.Fio.Iops:F0} IOPS, {job.Fio.MeanLatencyMicroseconds:F1} us");

        // Interrupts, not timeouts: the driver logged no timeout, abort or reset in the I/O phase,
        // and none of its commands completed through the timeout handler's "completion polled".
        Assert.True(ours.KernelLog.FindProblem() is null, ours.KernelLog.FindProblem());
        Assert.Equal(0, ours.KernelLog.CompletionsPolled);
        Assert.True(ours.InterruptsDelivered > 0, "no MSI-X interrupt was signalled");
        // And the guest took them: its own count of the disk's vectors (/proc/interrupts) rose in every job.
        foreach (var job in ours.Jobs)
            Assert.True(job.GuestInterrupts > 0, $"{job.Job.Name}: the guest counted {job.GuestInterrupts?.ToString() ?? "no"} interrupts of the disk");
        Assert.True(ours.Controller!.Commands.FindProblem() is null, ours.Controller.Commands.FindProblem());

        var options = new NvmeControllerOptions();
        Assert.NotNull(ours.Identify);
        var id = ours.Identify!;
        Assert.Equal(0x1b36, id.VendorId);
        Assert.Equal(options.SerialNumber, id.Serial);
        Assert.Equal(options.ModelNumber, id.Model);
        Assert.Equal(1, id.NamespaceCount);
        Assert.Equal((long)comparison.RangeMiB << (20 - options.LbaShift), id.NamespaceSize);

        Assert.True(ours.RoundTripOk, "data round trip through /dev/nvme0n1 failed:\n" + ours.Output);
        foreach (var job in ours.Jobs)
            Assert.True(job.Succeeded, $"{job.Job.Name} over vfio-user: rc {job.ExitCode}, {job.Fio.Problem}");
        Assert.Equal(0, ours.Controller.InternalErrors);
        Assert.Equal(0, ours.Controller.InvalidDoorbellWrites);
        if (doorbells == DoorbellDelivery.Mapped)
        {
            // The doorbells landed in the mapped page: a handful came as messages (9 of ~100,000
            // commands measured, before QEMU had the page mapped), the rest the controller polled.
            Assert.True(ours.Controller.Commands.Fetched > 1000);
            Assert.True(ours.Controller.MmioDoorbellWrites < ours.Controller.Commands.Fetched / 100,
                $"{ours.Controller.MmioDoorbellWrites} doorbell writes came as messages for {ours.Controller.Commands.Fetched} commands");
        }
        else Assert.True(ours.Controller.MmioDoorbellWrites > 0, "no doorbell arrived as a region write");
    }
}
