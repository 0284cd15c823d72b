using ShadowIo.Kvm;
using ShadowIo.Samples.Nvme.Guest;
using Xunit;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// The demo's workload on the real /dev/kvm: a CPL3 guest enables the controller, creates an I/O
/// queue pair, writes every block with its own pattern and reads it back at QD1 and QD32, in
/// each doorbell mode, with the controller in process and in a vfio-user device process. Counts are checked against what the mode promises, never timings.
/// </summary>
public sealed class WorkloadModeTests
{
    private const int Blocks = 128;
    private static readonly WorkloadSettings Settings = new() { Blocks = Blocks, QueueDepth = 32 };

    [Theory]
    [InlineData("in-process")]
    [InlineData("vfio-user")]
    public void Trapped_doorbells_move_every_block_and_each_doorbell_write_is_one_exit(string transport)
    {
        var result = Run(WorkloadMode.Trap, transport);

        AssertVerified(result);
        Assert.True(result.DoorbellWrites >= 2 * Blocks, $"QD1 alone rings SQ and CQ once per command; saw {result.DoorbellWrites}.");
        // Every I/O-phase exit is a doorbell write: nothing else in the loop touches MMIO.
        Assert.Equal(result.DoorbellWrites, result.UserspaceExits);
        Assert.Equal(0, result.SuppressedDoorbells);
    }

    [Theory]
    [InlineData("in-process")]
    [InlineData("vfio-user")]
    public void Ioeventfd_doorbells_move_every_block_without_a_single_exit_while_the_guest_rings_every_time(string transport)
    {
        var result = Run(WorkloadMode.IoEventFd, transport);

        AssertVerified(result);
        Assert.True(result.DoorbellWrites >= 2 * Blocks, $"QD1 alone rings SQ and CQ once per command; saw {result.DoorbellWrites}.");
        Assert.Equal(0, result.UserspaceExits);
        Assert.Equal(0, result.SuppressedDoorbells);
    }

    [Theory]
    [InlineData("in-process")]
    [InlineData("vfio-user")]
    public void EventIdx_lets_the_guest_skip_nearly_every_doorbell_and_nothing_exits(string transport)
    {
        // A controller that never stops polling: only the protocol decides when the guest rings.
        var result = Run(WorkloadMode.EventIdx, transport, Settings with { PollIdle = TimeSpan.FromMinutes(10) });

        AssertVerified(result);
        Assert.Equal(0, result.UserspaceExits);
        // The polling controller keeps the SQ EventIdx behind the tail: the guest's shadow stores suffice.
        Assert.True(result.SuppressedDoorbells > result.DoorbellWrites * 10,
            $"expected the EventIdx rule to suppress most doorbells: {result.SuppressedDoorbells} suppressed, {result.DoorbellWrites} rung.");
        Assert.True(result.DoorbellWrites < result.Ios / 10, $"{result.DoorbellWrites} doorbell writes for {result.Ios} I/Os.");
    }

    [Theory]
    [InlineData("in-process")]
    [InlineData("vfio-user")]
    public void EventIdx_with_a_controller_that_sleeps_whenever_idle_still_moves_every_block_without_exits(string transport)
    {
        // Idle after every command: the controller arms EventIdx and sleeps, so the guest's next
        // submission must ring (an ioeventfd) to wake it. Data and exits must not care.
        var result = Run(WorkloadMode.EventIdx, transport, Settings with { PollIdle = TimeSpan.Zero });

        AssertVerified(result);
        Assert.Equal(0, result.UserspaceExits);
        Assert.True(result.DoorbellWrites > 0, "a sleeping controller is woken by the guest's doorbell");
    }

    [Theory]
    [InlineData("in-process")]
    [InlineData("vfio-user")]
    public void Post_write_runs_where_the_kernel_has_it_and_otherwise_says_why_not(string transport)
    {
        var result = Run(WorkloadMode.PostWrite, transport);

        if (result.Supported)
        {
            AssertVerified(result);
            Assert.Equal(0, result.UserspaceExits);
        }
        else
        {
            Assert.Contains("KVM_IOEVENTFD_FLAG_POST_WRITE", result.UnsupportedReason, StringComparison.Ordinal);
            Assert.Contains("EINVAL", result.UnsupportedReason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_queue_depth_of_one_for_both_phases_still_verifies()
    {
        var result = Run(WorkloadMode.EventIdx, "in-process", Settings with { Blocks = 16, QueueDepth = 1 });

        AssertVerified(result, blocks: 16);
    }

    [Fact]
    public void A_deep_queue_that_wraps_many_times_still_verifies()
    {
        // 300 commands through a 64-entry queue pair at depth 63: the rings wrap and the phase flips repeatedly.
        var result = Run(WorkloadMode.Trap, "in-process", Settings with { Blocks = 300, QueueDepth = 63 });

        AssertVerified(result, blocks: 300);
    }

    /// <param name="transport">in-process, or vfio-user: the controller in a device process (this sample's hidden verb), attached with our client.</param>
    private static ModeResult Run(WorkloadMode mode, string transport, WorkloadSettings? settings = null)
    {
        RequireKvm.Present();
        Assert.True(WorkloadTransports.TryParse(transport, out var where), transport);
        using var kvm = KvmSystem.Open();
        return NvmeWorkload.Run(kvm, mode, (settings ?? Settings) with { Transport = where }, progress: null);
    }

    private static void AssertVerified(ModeResult result, int blocks = Blocks)
    {
        Assert.True(result.Supported, result.UnsupportedReason);
        int transfers = blocks / 4; // the PRP-list pass moves four blocks per command
        Assert.Equal(4L * blocks + 2L * transfers, result.Ios); // writes and reads at QD1 and the deep depth, then the PRP-list pass
        Assert.Equal(2L * blocks + 4L * transfers, result.VerifiedBlocks);
        Assert.Equal(result.Blocks, result.VerifiedBlocks);
        Assert.True(result.Verified);
        Assert.True(result.SetupExits > 0, "enabling the controller and the admin doorbells exit to userspace");
    }
}
