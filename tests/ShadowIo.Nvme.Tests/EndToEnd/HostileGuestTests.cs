using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Devices.Nvme;
using ShadowIo.Samples.Nvme.Guest;
using ShadowIo.Testing;
using Xunit;
using static Iced.Intel.AssemblerRegisters;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// A hostile guest on the real /dev/kvm, in each binding mode, while the controller thread runs:
/// first a sweep of every offset of BAR0 at every access size (read, write, read back; each result
/// checked against the register map), then random values of random sizes at random offsets with
/// random bytes in its admin queue memory. The emulator and the vCPU loop must come through with a
/// protocol-correct answer to every access (no exception, no controller internal error), and
/// afterwards the same controller still takes a reset, a fresh setup and a Write and Read that
/// round-trip.
/// </summary>
/// <remarks>
/// The random part leaves ASQ and ACQ alone after pointing them at a scratch area once: a random
/// queue base inside RAM would let the controller's completions overwrite the guest's own page
/// tables — the guest shooting itself, not the emulator failing. The sweep does write them (an
/// enable it provokes uses the values its setup just wrote).
/// </remarks>
public sealed class HostileGuestTests
{
    private const ulong Bar = NvmeWorkload.Bar;
    private const int Accesses = 8_000;
    private const ulong ScratchSq = 0x80_0000, ScratchCq = 0xC0_0000; // 256 KiB SQ (4096 entries), 64 KiB CQ
    private const ulong SweepResults = 0x40_0000; // (read, written, read back) per offset: 384 KiB
    private const ulong RamSize = 16UL << 20;
    private const int BarSize = (int)NvmeRegisters.BlockSize;

    [Theory]
    [InlineData(DoorbellBindingMode.Trap, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, true)]
    public void Every_offset_and_size_then_random_traffic_get_protocol_answers_and_leave_the_controller_usable(DoorbellBindingMode mode, bool polling)
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var guest = TestGuest.Create(kvm, RamSize);
        using var storage = new MemoryBlockStorage(GuestDriverSteps.Blocks * 4096L);
        using var host = new ControllerHost(guest, storage, Bar, mode, polling, TimeSpan.FromMicroseconds(20), TimeSpan.FromMilliseconds(1));
        var layout = new WorkloadLayout(ShadowIo.Testing.GuestLayout.Data, 64, GuestDriverSteps.Blocks, GuestDriverSteps.Blocks);
        Assert.True(layout.End <= SweepResults, "the sweep's results would overwrite the driver's layout");
        bool useShadow = mode == DoorbellBindingMode.GuestShadow;

        ulong seed = 0x9E37_79B9_7F4A_7C15 + (ulong)mode * 2 + (polling ? 1UL : 0);
        foreach (int size in (int[])[1, 2, 4, 8])
        {
            // A ready controller with an I/O queue pair (and, in the shadow modes, its doorbells
            // on wildcard ioeventfds), so the doorbell page is swept the way a driver finds it.
            GuestDriverSteps.Run(guest, host, layout, p => p.DisableController(maxReadyPolls: 1000));
            GuestDriverSteps.SetUp(guest, host, layout, useShadow ? layout.ShadowDoorbells : 0, useShadow ? layout.EventIndexes : 0);
            SweepEveryOffset(guest, host, size, seed += (ulong)size);
            host.CheckHealth();
        }

        var random = new Random((int)seed);
        Assert.True(guest.Memory.TryGetSpan(ScratchSq, 0x40_0000, out var scratch));
        random.NextBytes(scratch);
        for (int run = 0; run < 2; run++)
        {
            guest.Load(HostileProgram((ulong)random.NextInt64() | 1));
            var exits = guest.RunToFinish(host.Bus); // throws if the vCPU loop saw anything it cannot handle
            Assert.Equal(0, exits.UnmappedAccesses);
            host.CheckHealth();
        }
        var counters = host.Controller.Counters;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{mode}{(polling ? " polling" : "")}: {counters.CommandsFetched} commands fetched, {counters.CompletionsPosted} completions, " +
            $"{counters.InvalidDoorbellWrites} invalid doorbell writes, {counters.AsyncEventsPosted} async events, {host.Binding.TrappedWrites} trapped doorbell writes");
        Assert.True(counters.CommandsFetched > 0 && counters.InvalidDoorbellWrites > 0,
            "the random traffic never reached the queues: the test would prove nothing");

        // Whatever state that left, a driver can reset the controller and use it again.
        GuestDriverSteps.Run(guest, host, layout, p => p.DisableController(maxReadyPolls: 1000));
        GuestDriverSteps.AssertWriteThenReadRoundTrips(guest, host, layout, useShadow);
        host.CheckHealth();
    }

    /// <summary>
    /// One guest run over every offset at which an access of <paramref name="size"/> fits in BAR0,
    /// the doorbell pages first (while the setup's shadow doorbells are attached), then the
    /// register page: read, write a random value (small ones on the doorbell pages, so some are
    /// valid), read back. Every read must be what the register map says, and KVM must have
    /// delivered exactly the exits the accesses make.
    /// </summary>
    private static void SweepEveryOffset(TestGuest guest, ControllerHost host, int size, ulong seed)
    {
        var registers = host.Controller.Registers;
        var model = new BarModel(registers.Cap, registers.Vs, registers.Intms, registers.Cc, registers.Aqa, registers.Asq, registers.Acq);
        bool attached = host.Binding.IsGuestShadowAttached;
        guest.Load(SweepProgram(size, seed));

        var exits = guest.RunToFinish(host.Bus);

        long expectedReads = 0, expectedWrites = 0;
        int step = 0;
        foreach (ulong offset in SweepOrder(size))
        {
            Assert.True(guest.Memory.TryRead(SweepResults + (ulong)step++ * 24, out SweepStep result));
            var fragments = PageFragments(offset, size).ToArray();
            expectedReads += 2 * fragments.Length;
            expectedWrites += fragments.Count(f => !(attached && IsIoDoorbell(f.Offset, f.Size)));
            var (before, after) = model.Access(offset, size, result.Written, fragments.Length > 1);
            if (before is { } b && result.Read != b || after is { } a && result.ReadBack != a)
                Assert.Fail($"{size}-byte access at 0x{offset:x}: read 0x{result.Read:x}, wrote 0x{result.Written & DoorbellSequence.Mask(size):x}, " +
                    $"read back 0x{result.ReadBack:x}; the register map says 0x{before:x} then 0x{after:x}");
        }
        Assert.Equal(expectedReads, exits.MmioReads);
        Assert.Equal(expectedWrites, exits.MmioWrites);
        Assert.Equal(0, exits.UnmappedAccesses);
    }

    private readonly record struct SweepStep(ulong Read, ulong Written, ulong ReadBack);

    /// <summary>Offsets 0x1000 up to the last at which <paramref name="size"/> bytes fit, then 0 to 0xFFF.</summary>
    private static IEnumerable<ulong> SweepOrder(int size)
    {
        for (ulong offset = 0x1000; offset <= (ulong)(BarSize - size); offset++) yield return offset;
        for (ulong offset = 0; offset < 0x1000; offset++) yield return offset;
    }

    /// <summary>I/O queue doorbells (the binding leaves the admin pair's to MMIO dispatch): wildcard ioeventfds once attached.</summary>
    private static bool IsIoDoorbell(ulong offset, int size) =>
        size == 4 && offset >= 0x1008 && offset < 0x1000 + 8 * NvmeRegisters.QueueCount && offset % 4 == 0;

    /// <summary>
    /// The accesses KVM makes of one guest access: x86 KVM's emulator splits one that crosses a 4 KiB
    /// page there (emulator_read_write in arch/x86/kvm/x86.c), so an 8-byte store at 0xFFC reaches
    /// the device as 4 bytes at 0xFFC and 4 at 0x1000 (see ShadowIo.Runtime.Tests' hostile guest).
    /// BAR0 is page-aligned, so block offsets split where GPAs do.
    /// </summary>
    private static IEnumerable<(ulong Offset, int Size)> PageFragments(ulong offset, int size)
    {
        int first = (int)Math.Min((ulong)size, 0x1000 - (offset & 0xFFF));
        yield return (offset, first);
        if (first < size) yield return (offset + (ulong)first, size - first);
    }

    private static byte[] SweepProgram(int size, ulong seed)
    {
        var a = new Assembler(64);
        a.mov(rbp, Bar);
        a.mov(rdi, SweepResults);
        a.mov(r8, seed);
        EmitSweep(a, size, 0x1000, (ulong)(BarSize - size) + 1, valueMask: 0x3F);
        EmitSweep(a, size, 0, 0x1000, valueMask: ulong.MaxValue);
        TestGuest.EmitFinish(a);
        return Assemble(a);
    }

    /// <summary>For each offset in [start, end): read into [rdi], xorshift64 r8, write it (masked) and keep it at [rdi + 8], read back into [rdi + 16].</summary>
    private static void EmitSweep(Assembler a, int size, ulong start, ulong end, ulong valueMask)
    {
        var loop = a.CreateLabel();
        a.mov(rbx, start);
        a.Label(ref loop);
        EmitRead(a, size);
        a.mov(__qword_ptr[rdi], rax);
        EmitXorShift(a);
        a.mov(rax, valueMask);
        a.and(rax, r8);
        a.mov(__qword_ptr[rdi + 8], rax);
        switch (size)
        {
            case 1: a.mov(__byte_ptr[rbp + rbx], al); break;
            case 2: a.mov(__word_ptr[rbp + rbx], ax); break;
            case 4: a.mov(__dword_ptr[rbp + rbx], eax); break;
            default: a.mov(__qword_ptr[rbp + rbx], rax); break;
        }
        EmitRead(a, size);
        a.mov(__qword_ptr[rdi + 16], rax);
        a.add(rdi, 24);
        a.inc(rbx);
        a.mov(rax, end);
        a.cmp(rbx, rax);
        a.jb(loop);
    }

    /// <summary>One guest read of exactly <paramref name="size"/> bytes at [rbp + rbx], zero-extended into rax.</summary>
    private static void EmitRead(Assembler a, int size)
    {
        switch (size)
        {
            case 1: a.movzx(eax, __byte_ptr[rbp + rbx]); break;
            case 2: a.movzx(eax, __word_ptr[rbp + rbx]); break;
            case 4: a.mov(eax, __dword_ptr[rbp + rbx]); break;
            default: a.mov(rax, __qword_ptr[rbp + rbx]); break;
        }
    }

    private static void EmitXorShift(Assembler a)
    {
        a.mov(rax, r8); a.shl(rax, 13); a.xor(r8, rax);
        a.mov(rax, r8); a.shr(rax, 7); a.xor(r8, rax);
        a.mov(rax, r8); a.shl(rax, 17); a.xor(r8, rax);
    }

    private static byte[] Assemble(Assembler a)
    {
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), ShadowIo.Testing.GuestLayout.Code);
        return stream.ToArray();
    }

    /// <summary>
    /// xorshift64 in r8 drives every choice: any offset in the 16 KiB BAR at which the access fits
    /// (half of them in the first 256 bytes of the doorbell page), size 1/2/4/8, read or write,
    /// value. ASQ/ACQ (0x28..0x37) are set once to the scratch area; every 1024 accesses the guest
    /// resets and enables the controller properly.
    /// </summary>
    private static byte[] HostileProgram(ulong seed)
    {
        var a = new Assembler(64);
        a.mov(rbp, Bar);
        a.mov(rax, ScratchSq);
        a.mov(__qword_ptr[rbp + 0x28], rax);
        a.mov(rax, ScratchCq);
        a.mov(__qword_ptr[rbp + 0x30], rax);
        a.mov(r8, seed);
        a.mov(r9d, Accesses);
        var loop = a.CreateLabel();
        var next = a.CreateLabel();
        var access = a.CreateLabel();
        var size2 = a.CreateLabel();
        var size4 = a.CreateLabel();
        var size8 = a.CreateLabel();
        a.Label(ref loop);
        // Every 1024 accesses: reset and enable properly with random admin queue sizes, so the
        // controller spends most of the run ready and the random doorbells reach its queues.
        var noReset = a.CreateLabel();
        a.test(r9d, 1023);
        a.jnz(noReset);
        a.mov(__dword_ptr[rbp + 0x14], 0);
        a.mov(eax, r8d);
        a.and(eax, 0x00FF_00FF);
        a.or(eax, 0x0001_0001);          // at least 2 entries each
        a.mov(__dword_ptr[rbp + 0x24], eax);
        a.mov(__dword_ptr[rbp + 0x14], 0x0046_0001);
        a.Label(ref noReset);
        EmitXorShift(a);
        a.mov(rdx, r8);
        a.shr(rdx, 32);                  // value
        a.mov(ecx, r8d);
        a.shr(ecx, 20);
        a.and(ecx, 3);                   // log2(size)
        a.mov(eax, r8d);
        a.mov(r10, r8);                  // the 8-byte value
        // Half the accesses go to the doorbell page, half anywhere in the BAR.
        a.bt(r8d, 27);
        var anywhere = a.CreateLabel();
        a.jc(anywhere);
        a.and(eax, 0xFF);
        a.or(eax, 0x1000);
        a.and(edx, 0x1FF);               // doorbell values around the queue sizes: valid and not
        a.mov(r10, rdx);                 // the 8-byte store uses r10 too
        a.Label(ref anywhere);
        a.and(eax, BarSize - 1);
        var fits = a.CreateLabel();
        a.cmp(eax, BarSize - 8);
        a.jbe(fits);
        a.and(eax, BarSize - 8);         // the last 7 offsets: an 8-byte access would leave the BAR
        a.Label(ref fits);
        a.cmp(eax, 0x28);
        a.jb(access);
        a.cmp(eax, 0x38);
        a.jb(next);                      // ASQ/ACQ: the carve-out
        a.Label(ref access);
        a.mov(rbx, rax);
        a.bt(r8d, 24);
        var write = a.CreateLabel();
        a.jnc(write);
        // A read of the chosen size; the value is ignored.
        var read1 = a.CreateLabel();
        var read2 = a.CreateLabel();
        var read4 = a.CreateLabel();
        a.cmp(ecx, 0); a.je(read1);
        a.cmp(ecx, 1); a.je(read2);
        a.cmp(ecx, 2); a.je(read4);
        EmitRead(a, 8); a.jmp(next);
        a.Label(ref read1); EmitRead(a, 1); a.jmp(next);
        a.Label(ref read2); EmitRead(a, 2); a.jmp(next);
        a.Label(ref read4); EmitRead(a, 4); a.jmp(next);
        a.Label(ref write);
        a.cmp(ecx, 1);
        a.je(size2);
        a.cmp(ecx, 2);
        a.je(size4);
        a.cmp(ecx, 3);
        a.je(size8);
        a.mov(__byte_ptr[rbp + rbx], dl);
        a.jmp(next);
        a.Label(ref size2);
        a.mov(__word_ptr[rbp + rbx], dx);
        a.jmp(next);
        a.Label(ref size4);
        a.mov(__dword_ptr[rbp + rbx], edx);
        a.jmp(next);
        a.Label(ref size8);
        a.mov(__qword_ptr[rbp + rbx], r10);
        a.Label(ref next);
        a.dec(r9d);
        a.jnz(loop);
        TestGuest.EmitFinish(a);
        return Assemble(a);
    }
}
