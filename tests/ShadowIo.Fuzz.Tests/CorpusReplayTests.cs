using System.Diagnostics;
using ShadowIo.Fuzz;
using Xunit;

namespace ShadowIo.Fuzz.Tests;

/// <summary>
/// Every file of fuzz/corpus/TARGET (the minimized AFL++ queue, the seeds and each crash AFL found,
/// kept as a regression) runs through the target exactly as a campaign runs it, uninstrumented: no
/// invariant may fail and no exception may escape. One collection with the project's other tests,
/// so the targets' fd accounting never runs beside another test (a child process's pipes would
/// count as fds a vfio-user session leaked).
/// </summary>
[Collection(FdAccounting)]
public sealed class CorpusReplayTests(ITestOutputHelper output)
{
    /// <summary>The collection of every test in this project: they run one after another.</summary>
    public const string FdAccounting = "fd accounting";

    [Theory]
    [InlineData(FuzzTargets.Nvme)]
    [InlineData(FuzzTargets.VfioUser)]
    [InlineData(FuzzTargets.VfioUserClient)]
    [InlineData(FuzzTargets.VfioUserVirtio)]
    [InlineData(FuzzTargets.VirtioBlk)]
    public void Every_corpus_file_passes_the_target(string target)
    {
        // The client target binds doorbells to a real VM, as our VMM does.
        Assert.SkipWhen(target == FuzzTargets.VfioUserClient && !ShadowIo.Kvm.KvmSystem.IsPresent(), "/dev/kvm is absent.");
        string directory = Path.Combine(AppContext.BaseDirectory, "corpus", target);
        var files = Directory.GetFiles(directory).Order(StringComparer.Ordinal).ToArray();
        Assert.True(files.Length >= 5, $"only {files.Length} corpus files in {directory}");
        var run = FuzzTargets.Get(target);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        foreach (var file in files)
        {
            try
            {
                run(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failures.Add($"{Path.GetFileName(file)}: {e}");
            }
        }
        output.WriteLine($"{target}: {files.Length} files replayed in {clock.ElapsedMilliseconds} ms");
        Assert.True(failures.Count == 0, $"{failures.Count} of {files.Length} corpus files fail:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }

    /// <summary>
    /// The seeds of what QEMU sends, what a running guest sends and what our client receives are
    /// accepted by the decoders whole (the harness reaches the decoders, not only the framing),
    /// and the broken one is refused message by message without losing the stream early.
    /// </summary>
    [Theory]
    [InlineData("handshake", 20)]
    [InlineData("doorbells", 7)]
    [InlineData("interrupts", 6)]
    [InlineData("client-replies", 6)]
    public void The_vfio_user_protocol_seeds_are_accepted_message_by_message(string seed, int messages)
    {
        VfioUserTarget.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "corpus", FuzzTargets.VfioUser, seed)));
        var session = VfioUserTarget.LastSession!;
        output.WriteLine(session.ToString());
        Assert.Equal((messages, messages, 0, true), (session.Messages, session.Accepted, session.Rejected, session.EndedCleanly));
    }

    /// <summary>
    /// The virtio-blk seeds reach the device, not only the register decoder: the clean sessions get
    /// their requests completed, the hostile rings are answered with DEVICE_NEEDS_RESET for their reason.
    /// </summary>
    [Theory]
    [InlineData("write-read", 3, 0, Devices.Virtio.VirtqueueError.None)]
    [InlineData("two-queues-flush", 2, 0, Devices.Virtio.VirtqueueError.None)]
    [InlineData("polling-hand-over", 3, 0, Devices.Virtio.VirtqueueError.None)]
    [InlineData("looping-chain", 0, 1, Devices.Virtio.VirtqueueError.ChainLongerThanQueue)]
    [InlineData("bad-avail-idx", 0, 1, Devices.Virtio.VirtqueueError.AvailIndexTooFar)]
    [InlineData("nested-indirect", 0, 1, Devices.Virtio.VirtqueueError.NestedIndirect)]
    public void The_virtio_blk_seeds_reach_the_device(string seed, long completed, long needsReset, Devices.Virtio.VirtqueueError reason)
    {
        Virtio.VirtqueueByteFuzzer.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "corpus", FuzzTargets.VirtioBlk, seed)));
        var run = Virtio.VirtqueueByteFuzzer.LastRun;
        output.WriteLine(run.ToString());
        Assert.Equal((completed, 0L, needsReset, reason), (run.RequestsCompleted, run.RequestsFailed, run.NeedsResetRaised, run.LastReason));
    }

    /// <summary>
    /// The vfio-user-virtio seeds get past the protocol into the device's split rings: requests
    /// waiting at DRIVER_OK are served by its one look at every queue; those published after it
    /// (the seeds that remap the rings' IOVA window) only by the notify, so those seeds prove the
    /// notify doorbell path; the hostile driver gets DEVICE_NEEDS_RESET for a queue it configured
    /// wrongly, then for rings unmapped under an enabled queue, and its requests past the disk's end fail.
    /// </summary>
    [Theory]
    [InlineData("write-read", 1, 4, 0, 0, 0, Devices.Virtio.VirtqueueError.None)]
    [InlineData("msix-config", 1, 4, 0, 0, 0, Devices.Virtio.VirtqueueError.None)]
    [InlineData("reset-midway", 2, 8, 0, 0, 0, Devices.Virtio.VirtqueueError.None)]
    [InlineData("two-queues", 2, 8, 8, 0, 0, Devices.Virtio.VirtqueueError.None)]
    [InlineData("notify-after-ready", 1, 4, 4, 0, 0, Devices.Virtio.VirtqueueError.None)]
    [InlineData("hostile", 2, 4, 0, 2, 2, Devices.Virtio.VirtqueueError.RingOutsideMemory)]
    public void The_vfio_user_virtio_seeds_reach_the_rings(string seed, long notifications, long completed, long byNotify, long failed, long needsReset,
        Devices.Virtio.VirtqueueError reason)
    {
        VfioUserVirtioTarget.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "corpus", FuzzTargets.VfioUserVirtio, seed)));
        var session = VfioUserVirtioTarget.LastSession!;
        output.WriteLine(session.ToString());
        Assert.Equal((notifications, completed, byNotify, failed, needsReset, reason),
            (session.Notifications, session.RequestsCompleted, session.CompletedByNotify, session.RequestsFailed, session.NeedsResetRaised, session.LastReason));
    }

    /// <summary>
    /// The client seeds reach past the connect: BAR0 attached with its two doorbells bound from
    /// the server's region IO fds, guest accesses through the bus, MSI-X enabled past a DMA request
    /// the client refuses; the seed whose reply has the wrong id fails its one operation cleanly.
    /// </summary>
    [Theory]
    [InlineData("connect-config", 2, 0, 0, 0, 0)]
    [InlineData("attach-trap", 2, 1, 2, 0, 4)]
    [InlineData("attach-guest-shadow", 1, 1, 2, 0, 1)]
    [InlineData("attach-none", 1, 1, 0, 0, 2)]
    [InlineData("msix-reset", 2, 0, 0, 1, 0)]
    [InlineData("wrong-id", 0, 0, 0, 0, 0)]
    public void The_vfio_user_client_seeds_reach_past_the_connect(string seed, int succeeded, int bars, int doorbells, int msix, int mmio)
    {
        Assert.SkipUnless(ShadowIo.Kvm.KvmSystem.IsPresent(), "/dev/kvm is absent.");
        VfioUserClientTarget.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "corpus", FuzzTargets.VfioUserClient, seed)));
        var session = VfioUserClientTarget.LastSession!;
        output.WriteLine(session.ToString());
        Assert.True(session.Connected, session.ToString());
        Assert.Equal((succeeded, bars, doorbells, msix, mmio, 0L), (session.Succeeded, session.BarsAttached, session.DoorbellsBound, session.MsixEnabled, session.MmioAccesses, session.FailedAccesses));
        Assert.Equal(seed == "wrong-id" ? 1 : 0, session.Refused);
    }

    [Fact]
    public void The_broken_vfio_user_seed_is_refused_where_it_is_broken()
    {
        VfioUserTarget.Run(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "corpus", FuzzTargets.VfioUser, "broken")));
        var session = VfioUserTarget.LastSession!;
        output.WriteLine(session.ToString());
        // Oversized, reserved flag, too many fds: the channel; unknown command, a DMA_MAP whose fd range wraps: the decoders;
        // then a msg_size below the header ends the stream.
        Assert.Equal(3, session.Rejected);
        Assert.Equal(2, session.Messages);
        Assert.Equal(0, session.Accepted);
        Assert.False(session.EndedCleanly);
    }
}
