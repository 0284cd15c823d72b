using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.Linux.Tests.Guest;
using ShadowIo.Samples.Nvme.Linux;
using Xunit;

namespace ShadowIo.Linux.Tests.VfioUser;

/// <summary>
/// Linux's virtio_pci + virtio_blk (Debian 6.1 under QEMU 11.1 TCG) on our virtio-blk device
/// served over vfio-user, with MSI-X interrupts: /dev/vda appears, a data round trip through it,
/// fio randread/randwrite at QD1 and QD32 and two verifying jobs, completing by interrupt.
/// Correctness only: speed is what the demo's <c>linux</c> verb reports.
/// </summary>
[Collection(QemuGuestCollection.Name)]
public sealed class VfioUserVirtioBlkDriverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Linux_virtio_blk_round_trip_and_fio_run_by_msix_interrupt_on_our_device_served_over_vfio_user()
    {
        var ct = TestContext.Current.CancellationToken;
        var comparison = new LinuxComparison
        {
            Image = await RepositoryGuest.ImageAsync(ct),
            RuntimeSeconds = 3,
            Log = line => { if (!line.StartsWith('{') && !line.StartsWith(' ')) output.WriteLine(line); },
        };
        var ours = await comparison.RunShadowIoVirtioBlkVfioUserAsync(await RepositoryGuest.QemuRootAsync(ct), ct);
        output.WriteLine($"device: {ours.Virtio}");
        output.WriteLine($"kernel log during I/O: {ours.KernelLog.Summary}");
        foreach (var line in ours.KernelLog.Lines) output.WriteLine($"  {line}");
        foreach (var job in ours.Jobs) output.WriteLine($"{job.Job.Name}: rc {job.ExitCode}, {job.Fio.Iops:F0} IOPS, {job.Fio.MeanLatencyMicroseconds:F1} us, {job.DoorbellsPerIo:F3} notifies/IO");

        Assert.DoesNotContain("no /dev/vda", ours.Output);
        // /dev/vda is our device: its size is the backing store's, in 512-byte sectors.
        Assert.Contains($"size {((long)comparison.RangeMiB << 20) / 512}\n", ours.Output);
        Assert.True(ours.RoundTripOk, "data round trip through /dev/vda failed:\n" + ours.Output);
        foreach (var job in ours.Jobs)
            Assert.True(job.Succeeded, $"{job.Job.Name} over vfio-user: rc {job.ExitCode}, {job.Fio.Problem}");

        // Interrupts, not a hang or a reset: no virtio/block error, timeout or reset in the I/O
        // phase, MSI-X vectors signalled, and the device never needed a reset or caught a bug.
        Assert.True(ours.KernelLog.FindProblem() is null, ours.KernelLog.FindProblem());
        var device = ours.Virtio!;
        Assert.True(ours.InterruptsDelivered > 0, "no MSI-X interrupt was signalled");
        // And the guest took them: its own count of the disk's vectors (/proc/interrupts) rose in every job.
        foreach (var job in ours.Jobs)
            Assert.True(job.GuestInterrupts > 0, $"{job.Job.Name}: the guest counted {job.GuestInterrupts?.ToString() ?? "no"} interrupts of the disk");
        Assert.Equal(0, device.NeedsResetRaised);
        Assert.Equal(0, device.InternalErrors);
        Assert.Equal(0, device.RequestsFailed);
        // What the driver negotiated, as it says in sysfs (bit n is character n): VERSION_1,
        // EVENT_IDX (the notification suppression the device's hand-over relies on) and MQ.
        var features = ours.Output.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("features ", StringComparison.Ordinal))["features ".Length..];
        Assert.Equal('1', features[32]);   // VIRTIO_F_VERSION_1
        Assert.Equal('1', features[29]);   // VIRTIO_F_EVENT_IDX
        Assert.Equal('1', features[12]);   // VIRTIO_BLK_F_MQ: one request queue per vCPU
        Assert.True(device.RequestsCompleted > 0);
        Assert.True(device.NotifyWrites > 0, "no notify doorbell write reached the server");
    }
}
