using ShadowIo.Samples.Nvme.Linux;
using Xunit;

namespace ShadowIo.Linux.Tests.Guest;

/// <summary>
/// The I/O phase check on kernel logs shaped like the Debian 6.1 guest's (no guest boots here):
/// what the driver prints when Linux rescues a lost completion fails it; admin timeouts outside
/// the markers and "completion polled" inside them do not.
/// </summary>
public sealed class IoPhaseKernelLogTests
{
    private const string Boot = """
        [    3.101000] nvme nvme0: pci function 0000:00:04.0
        [    4.220000] nvme nvme0: I/O 0 QID 0 timeout, completion polled
        [    5.310000] nvme nvme0: 2/0/1 default/read/poll queues
        """;

    private static string Log(string io) => $"{Boot}\n[   20.000000] {GuestScript.IoBeginMarker}\n{io}\n[   90.000000] {GuestScript.IoEndMarker}\n[   91.000000] nvme nvme0: I/O 3 QID 0 timeout, completion polled\n";

    [Fact]
    public void A_clean_io_phase_passes_and_counts_polled_completions()
    {
        var log = IoPhaseKernelLog.Parse(Log("[   21.500000] nvme nvme0: I/O 12 QID 1 timeout, completion polled"));
        Assert.True(log.MarkersFound);
        Assert.Null(log.FindProblem());
        Assert.Equal(1, log.CompletionsPolled); // The two admin ones lie outside the markers.
    }

    [Fact]
    public void The_recovery_from_a_lost_completion_fails_with_each_line_named()
    {
        var log = IoPhaseKernelLog.Parse(Log("""
            [   31.000000] nvme nvme0: I/O 5 (Write) QID 3 timeout, aborting
            [   32.000000] nvme nvme0: I/O 1 QID 0 timeout, completion polled
            [   32.000100] nvme nvme0: Abort status: 0x0
            [   33.000000] nvme nvme0: I/O 5 QID 3 timeout, reset controller
            [   40.000000] nvme0n1: Write(0x1) @ LBA 2048, 8 blocks, Host Aborted Command (sct 0x3 / sc 0x71)
            [   40.100000] I/O error, dev nvme0n1, sector 16384 op 0x1:(WRITE) flags 0x8800 phys_seg 1 prio class 2
            """));
        string? problem = log.FindProblem();
        Assert.NotNull(problem);
        Assert.Equal(5, log.Failures.Count);
        Assert.Contains("timeout, aborting\": no completion within the timeout", problem, StringComparison.Ordinal);
        Assert.Contains("Abort status", problem, StringComparison.Ordinal);
        Assert.Contains("reset controller", problem, StringComparison.Ordinal);
        Assert.Contains("nvme_log_error", problem, StringComparison.Ordinal);
        Assert.Contains("blk_print_req_error", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nvme nvme0: invalid id 77 completed on queue 3")]
    [InlineData("nvme nvme0: request 0x4d genctr mismatch (got 0x2 expected 0x3)")]
    [InlineData("could not locate request for tag 0x4d")]
    [InlineData("nvme nvme0: controller is down; will reset: CSTS=0x3, PCI_STATUS=0x10")]
    [InlineData("nvme nvme0: resetting controller")]
    [InlineData("nvme nvme0: I/O 9 QID 2 timeout, disable controller")]
    public void Second_completions_fatal_status_and_resets_fail(string line)
    {
        Assert.Single(IoPhaseKernelLog.Parse(Log($"[   50.000000] {line}")).Failures);
    }

    [Fact]
    public void A_log_without_both_markers_fails()
    {
        var log = IoPhaseKernelLog.Parse($"{Boot}\n[   20.000000] {GuestScript.IoBeginMarker}\n");
        Assert.False(log.MarkersFound);
        Assert.Contains("markers", log.FindProblem(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_guest_script_marks_the_io_phase_around_the_round_trip_and_fio_and_prints_the_log_after()
    {
        string script = GuestScript.Build([.. FioJob.Measured], 3, 64, dataChecks: true);
        int begin = script.IndexOf($"echo {GuestScript.IoBeginMarker} > /dev/kmsg", StringComparison.Ordinal);
        int end = script.IndexOf($"echo {GuestScript.IoEndMarker} > /dev/kmsg", StringComparison.Ordinal);
        Assert.True(begin > script.IndexOf("nvme id-ns", StringComparison.Ordinal));
        Assert.True(begin < script.IndexOf("roundtrip", StringComparison.Ordinal));
        Assert.True(end > script.LastIndexOf("fio ", StringComparison.Ordinal));
        Assert.True(script.IndexOf(GuestScript.KernelLogSection, StringComparison.Ordinal) > end);
    }
}
