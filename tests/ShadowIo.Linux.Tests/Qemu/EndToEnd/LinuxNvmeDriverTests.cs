using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.Devices.Nvme;
using ShadowIo.Samples.Nvme.Linux;
using Xunit;

namespace ShadowIo.Linux.Tests.Qemu.EndToEnd;

/// <summary>
/// The real Linux nvme driver, nvme-cli and fio (Debian 6.1 guest under QEMU TCG) drive the
/// sample controller through QEMU 7.2's x-pci-proxy-dev; QEMU's own nvme runs the same jobs
/// as the peer. Correctness only: speed is what the demo's <c>linux</c> verb reports.
/// </summary>
[Collection(QemuGuestCollection.Name)]
public sealed class LinuxNvmeDriverTests
{
    private readonly ITestOutputHelper _output;

    public LinuxNvmeDriverTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Linux_driver_nvme_cli_and_fio_run_correctly_on_the_proxied_controller_and_on_qemus_nvme()
    {
        var ct = TestContext.Current.CancellationToken;
        var comparison = new LinuxComparison
        {
            Image = await RepositoryGuest.ImageAsync(ct),
            RuntimeSeconds = 3,
            Log = line => { if (!line.StartsWith('{') && !line.StartsWith(' ')) _output.WriteLine(line); },
        };
        var result = await comparison.RunAsync(ct);
        Report(result);

        var ours = result.ShadowIo;
        var peer = result.Qemu;
        // First, because fio cannot tell: Linux recovers a lost completion (timeout → Abort →
        // controller reset → requeue) and the job still passes. The driver's log of the I/O phase
        // and the controller's books must both say every command completed once, in time.
        var problems = new List<string>();
        if (ours.KernelLog.FindProblem() is { } ourLog) problems.Add($"proxied controller: {ourLog}");
        if (ours.Controller?.Commands.FindProblem() is { } books) problems.Add($"proxied controller's command books: {books}");
        if (peer.KernelLog.FindProblem() is { } peerLog) problems.Add($"QEMU's nvme: {peerLog}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        var options = new NvmeControllerOptions();
        Assert.NotNull(ours.Identify);
        var id = ours.Identify!;
        Assert.Equal(0x1b36, id.VendorId);
        Assert.Equal(options.SerialNumber, id.Serial);
        Assert.Equal(options.ModelNumber, id.Model);
        Assert.Equal(options.FirmwareRevision, id.Firmware);
        Assert.NotEqual(0, id.Oacs & 0x100);                       // Doorbell Buffer Config advertised
        Assert.Equal(options.MaxDataTransferShift, id.Mdts);
        Assert.Equal(1, id.NamespaceCount);
        Assert.Equal((long)comparison.RangeMiB << (20 - options.LbaShift), id.NamespaceSize);
        Assert.Equal(options.LbaShift, id.LbaDataShift);

        Assert.True(ours.RoundTripOk, "data round trip through /dev/nvme0n1 failed:\n" + ours.Output);
        foreach (var job in ours.Jobs)
            Assert.True(job.Succeeded, $"{job.Job.Name} on the proxied controller: rc {job.ExitCode}, {job.Fio.Problem}");

        // The driver sent Doorbell Buffer Config (OACS bit 8) and the controller took its pages.
        var seen = ours.Controller!;
        Assert.NotNull(seen.DoorbellBufferShadow);
        Assert.NotNull(seen.DoorbellBufferEventIdx);
        Assert.Equal(0ul, seen.DoorbellBufferShadow!.Value & 0xfff);
        Assert.Equal(0ul, seen.DoorbellBufferEventIdx!.Value & 0xfff);
        Assert.NotEqual(seen.DoorbellBufferShadow, seen.DoorbellBufferEventIdx);
        Assert.Equal(0, seen.InternalErrors);
        Assert.Equal(0, seen.InvalidDoorbellWrites);

        Assert.NotNull(peer.Identify);
        foreach (var job in peer.Jobs)
            Assert.True(job.Succeeded, $"{job.Job.Name} on QEMU's nvme: rc {job.ExitCode}, {job.Fio.Problem}");
    }

    private void Report(ComparisonResult result)
    {
        foreach (var line in ComparisonTable.Render(result).Split('\n')) _output.WriteLine(line);
        _output.WriteLine($"controller: {result.ShadowIo.Controller}");
        foreach (var peer in new[] { result.ShadowIo, result.Qemu })
        {
            _output.WriteLine($"{peer.Peer}: kernel log during I/O: {peer.KernelLog.Summary}");
            foreach (var line in peer.KernelLog.Lines) _output.WriteLine($"  {line}");
        }
    }
}
