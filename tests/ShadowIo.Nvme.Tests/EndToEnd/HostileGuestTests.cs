using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Samples.Nvme;
using ShadowIo.Samples.Nvme.Guest;
using ShadowIo.Testing;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// A guest that writes and reads random values of random sizes at random offsets of BAR0 —
/// registers, doorbells, holes — with random bytes in its admin queue memory, on the real
/// /dev/kvm in each binding mode, while the controller thread runs. The emulator and the vCPU
/// loop must come through: no exception, no controller internal error, and afterwards the same
/// controller still takes a reset, a fresh setup and a Write and Read that round-trip.
/// </summary>
/// <remarks>
/// ASQ and ACQ are the one carve-out: the guest points them at a scratch area once, because a
/// random queue base inside RAM would let the controller's completions overwrite the guest's own
/// page tables — the guest shooting itself, not the emulator failing.
/// </remarks>
public sealed class HostileGuestTests
{
    private const ulong Bar = NvmeWorkload.Bar;
    private const int Accesses = 8_000;
    private const ulong ScratchSq = 0x80_0000, ScratchCq = 0xC0_0000; // 256 KiB SQ (4096 entries), 64 KiB CQ
    private const ulong RamSize = 16UL << 20;

    [Theory]
    [InlineData(DoorbellBindingMode.Trap, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, true)]
    public void Random_register_and_doorbell_traffic_leaves_the_controller_healthy_and_usable(DoorbellBindingMode mode, bool polling)
    {
        KvmRequirement.Present();
        using var kvm = KvmSystem.Open();
        using var guest = TestGuest.Create(kvm, RamSize);
        using var storage = new MemoryNamespaceStorage(GuestDriverSteps.Blocks * 4096L);
        using var host = new ControllerHost(guest, storage, Bar, mode, polling, TimeSpan.FromMicroseconds(20), TimeSpan.FromMilliseconds(1));
        var random = new Random(4242 + (int)mode * 2 + (polling ? 1 : 0));
        Assert.True(guest.Memory.TryGetSpan(ScratchSq, 0x40_0000, out var scratch));
        random.NextBytes(scratch);

        for (int run = 0; run < 2; run++)
        {
            guest.Load(HostileProgram((ulong)random.NextInt64() | 1));
            var exits = guest.RunToFinish(host.Bus); // throws if the vCPU loop saw anything it cannot handle
            Assert.True(exits.MmioWrites + exits.MmioReads > 0);
            host.CheckHealth();
        }
        var counters = host.Controller.Counters;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{mode}{(polling ? " polling" : "")}: {counters.CommandsFetched} commands fetched, {counters.CompletionsPosted} completions, " +
            $"{counters.InvalidDoorbellWrites} invalid doorbell writes, {counters.AsyncEventsPosted} async events, {host.Binding.TrappedWrites} trapped doorbell writes");
        Assert.True(counters.CommandsFetched > 0 && counters.InvalidDoorbellWrites > 0,
            "the random traffic never reached the queues: the test would prove nothing");

        // Whatever state that left, a driver can reset the controller and use it again.
        var layout = new WorkloadLayout(ShadowIo.Testing.GuestLayout.Data, 64, GuestDriverSteps.Blocks, GuestDriverSteps.Blocks);
        GuestDriverSteps.Run(guest, host, layout, p => p.DisableController(maxReadyPolls: 1000));
        GuestDriverSteps.AssertWriteThenReadRoundTrips(guest, host, layout, useShadow: mode == DoorbellBindingMode.GuestShadow);
        host.CheckHealth();
    }

    /// <summary>
    /// xorshift64 in r8 drives every choice: offset in the 16 KiB BAR (half of them in the doorbell
    /// page), size 1/2/4/8, read or write, value. ASQ/ACQ (0x28..0x37) are set once to the scratch
    /// area; every 1024 accesses the guest resets and enables the controller properly.
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
        var read = a.CreateLabel();
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
        a.mov(rax, r8); a.shl(rax, 13); a.xor(r8, rax);
        a.mov(rax, r8); a.shr(rax, 7); a.xor(r8, rax);
        a.mov(rax, r8); a.shl(rax, 17); a.xor(r8, rax);
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
        a.and(eax, 0x3FF8);
        a.cmp(eax, 0x28);
        a.jb(read);
        a.cmp(eax, 0x38);
        a.jb(next);                      // ASQ/ACQ: the carve-out
        a.Label(ref read);
        a.bt(r8d, 24);
        var write = a.CreateLabel();
        a.jnc(write);
        a.mov(esi, __dword_ptr[rbp + rax]); // a read; the value is ignored
        a.jmp(next);
        a.Label(ref write);
        a.cmp(ecx, 1);
        a.je(size2);
        a.cmp(ecx, 2);
        a.je(size4);
        a.cmp(ecx, 3);
        a.je(size8);
        a.mov(__byte_ptr[rbp + rax], dl);
        a.jmp(next);
        a.Label(ref size2);
        a.mov(__word_ptr[rbp + rax], dx);
        a.jmp(next);
        a.Label(ref size4);
        a.mov(__dword_ptr[rbp + rax], edx);
        a.jmp(next);
        a.Label(ref size8);
        a.mov(__qword_ptr[rbp + rax], r10);
        a.Label(ref next);
        a.dec(r9d);
        a.jnz(loop);
        TestGuest.EmitFinish(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), ShadowIo.Testing.GuestLayout.Code);
        return stream.ToArray();
    }
}
