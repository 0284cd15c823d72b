using System.Diagnostics;
using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Benchmarks.Doorbells;

/// <summary>
/// The seed's demo, measured the way <c>kvm-doorbell-anchor.c</c> measures it: a CPL3 guest runs
/// <c>xor eax,eax; loop: mov [rdi],eax; inc eax; cmp eax,esi; jne loop; out 0x80,al</c> against
/// a trap-bound doorbell, an ioeventfd-bound doorbell and a RAM word; each mode's time is the
/// best of several rounds, from the first KVM_RUN to the finish marker. Every round is checked:
/// the guest reached N, each bound doorbell signalled N times, the trap shadow holds N−1.
/// </summary>
public static class DoorbellWriteBenchmark
{
    /// <summary>Guest-physical base of the trap-bound block (MMIO above RAM, below 4 GiB).</summary>
    public const ulong TrapDoorbellGpa = 0xFE00_0000;

    /// <summary>Guest-physical base of the ioeventfd-bound block.</summary>
    public const ulong IoEventFdDoorbellGpa = 0xFE10_0000;

    /// <summary>The RAM word the guest-store mode writes (start of the test's data area).</summary>
    public const ulong RamWordGpa = GuestLayout.Data;

    /// <summary>The guest page attached as the ioeventfd binding's guest shadow.</summary>
    public const ulong GuestShadowGpa = GuestLayout.Data + 0x1000;

    /// <summary>A one-doorbell block: a 4-byte value doorbell at offset 0, shadow at 0.</summary>
    public static DoorbellTable Table { get; } = new("doorbell benchmark", 0x1000, 4,
        [new DoorbellEntry("Doorbell", 0, 0, 4, DoorbellKind.Value, false, 0, 0)]);

    /// <summary>
    /// Runs every mode <paramref name="rounds"/> times, <paramref name="writes"/> guest writes each,
    /// on a fresh VM, and reports each mode's best round. Takes the calling thread for the whole run.
    /// </summary>
    /// <param name="writes">Guest writes per round, at least 1.</param>
    /// <param name="rounds">Rounds per mode, at least 1 (the fastest is reported).</param>
    /// <param name="kvmPath">The KVM device node.</param>
    /// <exception cref="KvmException">KVM is missing or refused the VM or a binding.</exception>
    /// <exception cref="InvalidOperationException">A round's check failed: the guest stopped early, or signals or the shadow value were wrong.</exception>
    public static DoorbellWriteReport Run(int writes, int rounds, string kvmPath = KvmSystem.DefaultPath)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        using var kvm = KvmSystem.Open(kvmPath);
        using var guest = TestGuest.Create(kvm);
        guest.Load(Program());

        using var trap = DoorbellBinding.Create(guest.Vm, Table, TrapDoorbellGpa, DoorbellBindingMode.Trap);
        using var ioeventfd = DoorbellBinding.Create(guest.Vm, Table, IoEventFdDoorbellGpa, DoorbellBindingMode.GuestShadow);
        if (!guest.Memory.TryGetShadowRegion(GuestShadowGpa, 4096, out var guestShadow))
            throw new InvalidOperationException("The guest shadow page is outside guest RAM.");
        ioeventfd.AttachGuestShadow(guestShadow);
        var bus = new MmioBus();
        bus.Add(TrapDoorbellGpa, Table.BlockSize, NoRegisters.Instance, trap);
        bus.Add(IoEventFdDoorbellGpa, Table.BlockSize, NoRegisters.Instance, ioeventfd);

        DoorbellWriteMode[] modes = [DoorbellWriteMode.Trap, DoorbellWriteMode.IoEventFd, DoorbellWriteMode.GuestStore];
        var best = new DoorbellWriteCost[modes.Length];
        for (int m = 0; m < modes.Length; m++) best[m] = new DoorbellWriteCost(modes[m], double.PositiveInfinity, 0);
        for (int round = 0; round < rounds; round++)
        {
            for (int m = 0; m < modes.Length; m++)
            {
                ulong target = modes[m] switch
                {
                    DoorbellWriteMode.Trap => TrapDoorbellGpa,
                    DoorbellWriteMode.IoEventFd => IoEventFdDoorbellGpa,
                    _ => RamWordGpa,
                };
                guest.ResetToEntry(target, (ulong)writes);
                long start = Stopwatch.GetTimestamp();
                var result = guest.Resume(bus);
                double ns = Stopwatch.GetElapsedTime(start).Ticks * 100.0 / writes;

                Verify(guest, modes[m], writes, trap, ioeventfd);
                if (ns < best[m].NanosecondsPerWrite) best[m] = new DoorbellWriteCost(modes[m], ns, result.ExitsToUserspace);
            }
        }
        return new DoorbellWriteReport(writes, rounds, best);
    }

    /// <summary>The yardstick's loop, with the doorbell address in RDI and the count in RSI.</summary>
    public static Assembler Program()
    {
        var a = new Assembler(64);
        var loop = a.CreateLabel();
        a.xor(eax, eax);
        a.Label(ref loop);
        a.mov(__dword_ptr[rdi], eax);
        a.inc(eax);
        a.cmp(eax, esi);
        a.jne(loop);
        TestGuest.EmitFinish(a);
        return a;
    }

    private static unsafe void Verify(TestGuest guest, DoorbellWriteMode mode, int writes, DoorbellBinding trap, DoorbellBinding ioeventfd)
    {
        ulong rax = guest.Registers.Rax;
        if (rax != (ulong)writes) throw new InvalidOperationException($"{mode.Name()}: the guest stopped after {rax} of {writes} writes.");
        // Drained after the timed run, straight from the eventfds: like the yardstick, nothing
        // waits on them while the guest runs (an epoll waiter adds a wake-up to every signal).
        ulong signals = 0;
        foreach (var binding in (ReadOnlySpan<DoorbellBinding>)[trap, ioeventfd])
            signals += binding.Doorbells.TakeSignals(0);
        ulong expected = mode == DoorbellWriteMode.GuestStore ? 0 : (ulong)writes;
        if (signals != expected) throw new InvalidOperationException($"{mode.Name()}: {signals} doorbell signals for {writes} writes (expected {expected}).");
        if (mode == DoorbellWriteMode.Trap && trap.Shadow.ReadUInt32(0) != (uint)(writes - 1))
            throw new InvalidOperationException($"trap: the shadow holds {trap.Shadow.ReadUInt32(0)}, not the last value {writes - 1}.");
    }

    /// <summary>The benchmark block has no registers: reads are 0, non-doorbell writes are ignored.</summary>
    private sealed class NoRegisters : IMmioDevice
    {
        public static readonly NoRegisters Instance = new();

        public ulong ReadMmio(ulong offset, int size) => 0;

        public void WriteMmio(ulong offset, int size, ulong value) { }
    }
}
