using ShadowIo.Binding;
using ShadowIo.Devices.Virtio;
using ShadowIo.Testing;
using Xunit;

namespace ShadowIo.Virtio.Tests.EndToEnd;

/// <summary>
/// A CPL3 virtio-blk driver on /dev/kvm drives the device in process in every binding mode:
/// 4 KiB writes then reads at QD1 and QD16 through indirect descriptors, the data verified (the
/// guest checks each read's stamps, the host each block on disk), and the counts of notify writes
/// and exits in the direction each mechanism promises.
/// </summary>
public sealed class GuestModeTests(ITestOutputHelper output)
{
    private const int Blocks = 512;
    private const int Depth = 16;

    private (PhaseResult WriteQd1, PhaseResult ReadQd1, PhaseResult WriteDeep, PhaseResult ReadDeep, GuestRunResult Setup) RunWorkload(VirtioMode mode)
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create(VirtioGuestLayout.RamSize);
        using var run = new VirtioGuestRun(guest, mode);
        var setup = run.SetUp();
        Assert.Equal((ulong)(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk), run.Counter(GuestCounters.StatusAfterFeatures));
        Assert.Equal((ulong)(VirtioDeviceStatus.Acknowledge | VirtioDeviceStatus.Driver | VirtioDeviceStatus.FeaturesOk | VirtioDeviceStatus.DriverOk), run.Counter(GuestCounters.StatusAfterDriverOk));
        Assert.Equal(run.Features, run.Device.NegotiatedFeatures);

        var writeQd1 = run.Run(VirtioBlkRequestType.Out, 0, Blocks / 2, 1);
        var writeDeep = run.Run(VirtioBlkRequestType.Out, Blocks / 2, Blocks / 2, Depth);
        // Every block on disk is what its request wrote: stamp and the slot's pattern.
        for (long block = 0; block < Blocks; block++)
            Assert.True(run.BlockHoldsWrite(block, block < Blocks / 2 ? 0 : (int)((block - Blocks / 2) % Depth)), $"block {block} on disk");
        var readQd1 = run.Run(VirtioBlkRequestType.In, 0, Blocks / 2, 1);
        var readDeep = run.Run(VirtioBlkRequestType.In, Blocks / 2, Blocks / 2, Depth);
        foreach (var (name, phase) in new[] { ("write QD1", writeQd1), ("write QD16", writeDeep), ("read QD1", readQd1), ("read QD16", readDeep) })
        {
            output.WriteLine($"{mode} {name}: {phase}");
            Assert.Equal(0, phase.TimedOut);
            Assert.Equal(phase.Requests, phase.Completed);
            Assert.Equal((0L, 0L, 0L), (phase.StatusErrors, phase.OrderErrors, phase.DataErrors));
            Assert.Equal(phase.KickDecisions, phase.NotifyWrites + phase.NotifiesSkipped);
            // The device thread never sees more notifications than the guest wrote (eventfds coalesce).
            Assert.True(phase.RunnerEvents <= phase.NotifyWrites, $"{phase.RunnerEvents} events for {phase.NotifyWrites} notify writes");
            // The guest asked for no interrupts (NO_INTERRUPT, or a used_event it never reaches).
            Assert.Equal(0, phase.InterruptsRequested);
            if (mode.Binding == DoorbellBindingMode.Trap) Assert.Equal(phase.NotifyWrites, phase.ExitsToUserspace);
            else Assert.Equal(0, phase.ExitsToUserspace);
        }
        Assert.Equal(0, run.Device.InternalErrors);
        Assert.False(run.Device.Status.HasFlag(VirtioDeviceStatus.DeviceNeedsReset));
        Assert.Equal((long)Blocks * VirtioGuestLayout.BlockBytes, run.Device.Counters.BytesWritten);
        Assert.Equal((long)Blocks * VirtioGuestLayout.BlockBytes, run.Device.Counters.BytesRead);
        output.WriteLine($"setup: {setup.ExitsToUserspace} exits, {setup.MmioWrites} MMIO writes");
        return (writeQd1, readQd1, writeDeep, readDeep, setup);
    }

    [Fact]
    public void Trap_every_notify_exits_to_the_vmm_and_rings_the_device()
    {
        var r = RunWorkload(new VirtioMode(DoorbellBindingMode.Trap, EventIdx: false, Polling: false));
        // Without EVENT_IDX and without polling the device never suppresses: every batch notifies.
        foreach (var phase in new[] { r.WriteQd1, r.ReadQd1, r.WriteDeep, r.ReadDeep })
            Assert.Equal((phase.KickDecisions, 0L), (phase.NotifyWrites, phase.NotifiesSkipped));
        Assert.Equal(Blocks / 2, r.WriteQd1.NotifyWrites); // QD1: one notify per request
        Assert.True(r.Setup.ExitsToUserspace > 10, "the handshake goes through the common configuration: MMIO exits");
    }

    [Fact]
    public void Ioeventfd_notifies_reach_the_device_without_an_exit()
    {
        var r = RunWorkload(new VirtioMode(DoorbellBindingMode.GuestShadow, EventIdx: false, Polling: false));
        foreach (var phase in new[] { r.WriteQd1, r.ReadQd1, r.WriteDeep, r.ReadDeep })
            Assert.Equal((phase.KickDecisions, 0L), (phase.NotifyWrites, phase.NotifiesSkipped));
        Assert.Equal(Blocks / 2, r.ReadQd1.NotifyWrites);
    }

    [Fact]
    public void Trap_with_event_idx_loses_no_request_whose_notify_the_guest_skipped()
    {
        var r = RunWorkload(new VirtioMode(DoorbellBindingMode.Trap, EventIdx: true, Polling: false));
        // Event-driven, the device publishes avail_event as it drains and arms it at the next slot when
        // it runs dry, then looks again. Whether the guest finds it armed (and notifies, one exit) or
        // behind (and skips, the device still draining) is the scheduler's choice; what the mechanism
        // guarantees is that a skipped notify never strands a request. RunWorkload checked that every
        // request completed and every kick decision was a write or a skip; here, that each notify was an
        // exit and no phase notified more often than it submitted.
        foreach (var phase in new[] { r.WriteQd1, r.ReadQd1, r.WriteDeep, r.ReadDeep })
        {
            Assert.True(phase.NotifyWrites <= phase.KickDecisions, $"{phase.NotifyWrites} notifies for {phase.KickDecisions} kick decisions");
            Assert.Equal(phase.NotifyWrites, phase.ExitsToUserspace);
        }
    }

    [Fact]
    public void Ioeventfd_with_event_idx_and_a_polling_device_takes_few_notifications_while_busy()
    {
        var r = RunWorkload(new VirtioMode(DoorbellBindingMode.GuestShadow, EventIdx: true, Polling: true, NeverSleeps: true));
        AssertFewNotifications(r.WriteQd1, r.ReadQd1, r.WriteDeep, r.ReadDeep);
    }

    [Fact]
    public void Polling_without_event_idx_suppresses_with_no_notify()
    {
        var r = RunWorkload(new VirtioMode(DoorbellBindingMode.GuestShadow, EventIdx: false, Polling: true, NeverSleeps: true));
        AssertFewNotifications(r.WriteQd1, r.ReadQd1, r.WriteDeep, r.ReadDeep);
    }

    /// <summary>
    /// While the device polls, the driver's rule says "don't notify" (avail_event one behind, or
    /// NO_NOTIFY); it notifies only after the device thread went idle and armed notifications again.
    /// Compared with the event-driven modes, where every decision rings, most decisions are skipped.
    /// </summary>
    private void AssertFewNotifications(params PhaseResult[] phases)
    {
        long writes = phases.Sum(p => p.NotifyWrites), skipped = phases.Sum(p => p.NotifiesSkipped);
        long requests = phases.Sum(p => p.Requests), sleeps = phases.Sum(p => p.RunnerSleeps);
        output.WriteLine($"{writes} notify writes, {skipped} skipped, {requests} requests, {sleeps} device-thread sleeps");
        // The device thread never sleeps once woken (NeverSleeps), so it never re-arms notifications:
        // after the notify that woke it, the guest finds "no need" in memory for every later request,
        // however the scheduler treats the device thread. One wake-up notify is all there can be.
        Assert.Equal(0, sleeps);
        Assert.True(writes <= 1, $"{writes} notify writes for {requests} requests");
        Assert.Equal(phases.Sum(p => p.KickDecisions) - writes, skipped);
    }
}
