using System.Diagnostics;
using ShadowIo.Benchmarks.VfioUser;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Testing;
using ShadowIo.VfioUser.Client;

namespace ShadowIo.Benchmarks.Doorbells;

/// <summary>
/// The seed's experiment out of process: the same guest loop as <see cref="DoorbellWriteBenchmark"/>
/// against the doorbell of a device served over vfio-user by a process this benchmark spawns
/// (<see cref="DeviceProcess"/>), attached by <see cref="VfioUserClient"/> three times to BAR0:
/// <b>trap</b> (no IO fds: KVM exit → our VMM → REGION_WRITE → device process's trap path → reply),
/// <b>shadow-trap</b> (the server's IOEVENTFD_SHADOW fds, trap mode: KVM exit → our VMM stores into
/// the device's shadow memfd and signals its eventfd, no message) and <b>ioeventfd</b> (the same
/// fds, the server's eventfd registered with KVM as a wildcard ioeventfd, the guest-shadow binding
/// attached as in process: KVM → eventfd → device, no exit). Every round is checked as in process:
/// the guest reached N, the device's eventfd counted N, the trapped shadow holds N−1.
/// </summary>
public static class VfioUserDoorbellBenchmark
{
    /// <summary>BAR0 attached without IO fds (every doorbell a REGION_WRITE).</summary>
    public const ulong TrapBarGpa = 0xE000_0000;

    /// <summary>BAR0 attached with IO fds in trap mode.</summary>
    public const ulong ShadowTrapBarGpa = 0xE010_0000;

    /// <summary>BAR0 attached with IO fds, guest-shadow mode, attached.</summary>
    public const ulong IoEventFdBarGpa = 0xE020_0000;

    /// <summary>The benchmark doorbell's offset in BAR0 (<see cref="DoorbellDevice"/> row 0).</summary>
    private const ulong DoorbellOffset = 0;

    /// <summary>Runs the three modes <paramref name="rounds"/> times each, <paramref name="writes"/> writes a round; each mode's best round.</summary>
    /// <exception cref="KvmException">KVM is missing or refused the VM or a binding.</exception>
    /// <exception cref="InvalidOperationException">The device process failed, or a round's check failed.</exception>
    /// <exception cref="IOException">The vfio-user link failed.</exception>
    public static IReadOnlyList<DoorbellWriteCost> Run(int writes, int rounds, string kvmPath = KvmSystem.DefaultPath)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        using var kvm = KvmSystem.Open(kvmPath);
        using var guest = TestGuest.Create(kvm);
        guest.Load(DoorbellWriteBenchmark.Program());
        using var device = DeviceProcess.Start(observe: false);
        DoorbellWriteCost[] best;
        using (var client = VfioUserClient.Connect(device.SocketPath))
        {
            client.MapGuestMemory(guest.Vm);
            var bus = new MmioBus();
            client.AttachBar(0, TrapBarGpa, bus, guest.Vm, doorbellMode: null);
            var shadowTrap = client.AttachBar(0, ShadowTrapBarGpa, bus, guest.Vm, DoorbellBindingMode.Trap);
            var ioeventfd = client.AttachBar(0, IoEventFdBarGpa, bus, guest.Vm, DoorbellBindingMode.GuestShadow);
            if (!guest.Memory.TryGetShadowRegion(DoorbellWriteBenchmark.GuestShadowGpa, 4096, out var guestShadow))
                throw new InvalidOperationException("The guest shadow page is outside guest RAM.");
            ioeventfd.Doorbells!.AttachGuestShadow(guestShadow);
            // Both bindings hold the device's own eventfd and shadow (fds passed twice, one file each).
            var deviceDoorbells = shadowTrap.Doorbells!.Doorbells;
            if (!deviceDoorbells.Table.TryFind(DoorbellOffset, out int row))
                throw new InvalidOperationException("The device offers no IO fd for its doorbell at offset 0.");

            DoorbellWriteMode[] modes = [DoorbellWriteMode.Trap, DoorbellWriteMode.ShadowTrap, DoorbellWriteMode.IoEventFd];
            best = new DoorbellWriteCost[modes.Length];
            for (int m = 0; m < modes.Length; m++) best[m] = new DoorbellWriteCost(modes[m], double.PositiveInfinity, 0, DoorbellTransport.VfioUser);
            for (int round = 0; round < rounds; round++)
            {
                for (int m = 0; m < modes.Length; m++)
                {
                    ulong target = modes[m] switch
                    {
                        DoorbellWriteMode.Trap => TrapBarGpa,
                        DoorbellWriteMode.ShadowTrap => ShadowTrapBarGpa,
                        _ => IoEventFdBarGpa,
                    } + DoorbellOffset;
                    deviceDoorbells.ShadowPage.WriteUInt32(deviceDoorbells.Table[row].ShadowOffset, uint.MaxValue);
                    guest.ResetToEntry(target, (ulong)writes);
                    long start = Stopwatch.GetTimestamp();
                    var result = guest.Resume(bus);
                    double ns = Stopwatch.GetElapsedTime(start).Ticks * 100.0 / writes;

                    Verify(guest, modes[m], writes, deviceDoorbells, row, client);
                    if (ns < best[m].NanosecondsPerWrite) best[m] = new DoorbellWriteCost(modes[m], ns, result.ExitsToUserspace, DoorbellTransport.VfioUser);
                }
            }
        }
        using var report = device.ReadReport();
        if (report.RootElement.GetProperty("doorbell_region_writes").GetInt64() != (long)writes * rounds)
            throw new InvalidOperationException($"trap: the device process counted {report.RootElement.GetProperty("doorbell_region_writes").GetInt64()} doorbell REGION_WRITEs for {(long)writes * rounds} trapped writes.");
        return best;
    }

    private static void Verify(TestGuest guest, DoorbellWriteMode mode, int writes, DoorbellSet deviceDoorbells, int row, VfioUserClient client)
    {
        string name = $"vfio-user {mode.Name()}";
        ulong rax = guest.Registers.Rax;
        if (rax != (ulong)writes) throw new InvalidOperationException($"{name}: the guest stopped after {rax} of {writes} writes.");
        if (client.FailedAccesses != 0) throw new InvalidOperationException($"{name}: {client.FailedAccesses} region accesses failed.");
        // The device's eventfd, drained after the timed run (nothing waits on it meanwhile, as in process).
        ulong signals = deviceDoorbells.TakeSignals(row);
        if (signals != (ulong)writes) throw new InvalidOperationException($"{name}: the device's eventfd counted {signals} signals for {writes} writes.");
        // Both trap paths store the value into the device's shadow; the ioeventfd ring carries none (the guest-shadow protocol).
        uint value = deviceDoorbells.ShadowPage.ReadUInt32(deviceDoorbells.Table[row].ShadowOffset);
        uint expected = mode == DoorbellWriteMode.IoEventFd ? uint.MaxValue : (uint)(writes - 1);
        if (value != expected) throw new InvalidOperationException($"{name}: the device's shadow holds {value}, not {expected}.");
    }
}
