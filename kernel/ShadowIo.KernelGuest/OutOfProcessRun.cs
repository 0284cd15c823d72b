using System.Diagnostics;
using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Testing;
using ShadowIo.VfioUser.Client;

namespace ShadowIo.KernelGuest;

/// <summary>What the VMM and the device process saw after one out-of-process run.</summary>
/// <param name="Observed">The device's signals, values, control and dispatch with the Status the guest read: comparable with the in-process modes.</param>
/// <param name="Mode">The mode the client's binding resolved to.</param>
/// <param name="AssignedIoEventFds">KVM ioeventfds the client registered for the server's IO fds.</param>
/// <param name="ClientRegionWrites">REGION_WRITE messages the client sent while the guest ran.</param>
internal sealed record OutOfProcessObservation(
    ModeObservation Observed,
    DoorbellBindingMode Mode,
    int AssignedIoEventFds,
    long ClientRegionWrites,
    DeviceReport Device);

/// <summary>
/// The seed's mechanism with the device in another process: <see cref="VfioUserDevice"/> serves
/// <see cref="DoorbellTestBlock"/> in a child process; this process is the VMM: a KVM VM whose
/// RAM the client shares by DMA_MAP, BAR0 attached with <see cref="VfioUserClient.AttachBar"/>,
/// which registers the server's IOEVENTFD_SHADOW doorbells with KVM (post-write at the client's
/// mapping of the server's shadow memfd when the kernel has it), and the same CPL3 guest programs
/// as the in-process modes. No doorbell value crosses the socket: the device reads it from its
/// memfd.
/// </summary>
internal static class OutOfProcessRun
{
    public static OutOfProcessObservation Run(DoorbellBindingMode mode, IReadOnlyList<DoorbellWrite> writes) =>
        Execute(mode, ModeRun.Sequence(writes, guestStores: false));

    public static OutOfProcessObservation RunLoop(DoorbellBindingMode mode, int count) =>
        Execute(mode, ModeRun.Loop(count, guestStores: false));

    private static OutOfProcessObservation Execute(DoorbellBindingMode mode, Action<Assembler> emit)
    {
        using var device = new DeviceProcess();
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        emit(a);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        GuestRunResult result;
        TimeSpan elapsed;
        DoorbellBindingMode resolved;
        int assigned;
        long trapped, regionWrites;
        using (var client = VfioUserClient.Connect(device.SocketPath))
        {
            client.MapGuestMemory(guest.Vm);
            var bus = new MmioBus();
            var bar = client.AttachBar(0, ModeRun.BlockGpa, bus, guest.Vm, mode);
            var doorbells = bar.Doorbells ?? throw new InvalidOperationException("AttachBar with a mode bound no doorbells");
            resolved = doorbells.Mode;
            assigned = doorbells.AssignedIoEventFds;
            long setupWrites = client.RegionWrites;

            var stopwatch = Stopwatch.StartNew();
            result = guest.RunToFinish(bus);
            stopwatch.Stop();
            elapsed = stopwatch.Elapsed;
            trapped = doorbells.TrappedWrites;
            regionWrites = client.RegionWrites - setupWrites;
            if (client.FailedAccesses != 0) throw new InvalidOperationException($"{client.FailedAccesses} region accesses failed");
        }
        // The client has gone: the device process reports what its eventfds and memfd hold.
        var report = device.ReadReport();
        var observed = new ModeObservation(report.Signals, report.Values, report.Control, ModeRun.StatusSeenByGuest(guest),
            report.Dispatched, result.ExitsToUserspace, trapped, elapsed);
        return new OutOfProcessObservation(observed, resolved, assigned, regionWrites, report);
    }
}
