using CsCheck;
using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Hostile;

/// <summary>
/// Issue 5 through a real guest: random MMIO writes and reads anywhere in the block (unaligned,
/// any size, any value) cannot crash the VMM loop, the binding or the generated dispatch, and
/// every mode signals exactly the writes KVM's ioeventfd rule matches.
/// </summary>
public sealed class HostileGuestTests
{
    private readonly record struct Access(bool IsWrite, ulong Offset, int Size, ulong Value);

    private static readonly Gen<Access[]> Accesses = Gen.Select(
        Gen.Frequency((3, Gen.Const(true)), (1, Gen.Const(false))),
        Gen.Frequency(
            (3, Gen.Int[0, TestDoorbellBlock.DoorbellTable.Count - 1].Select(row => TestDoorbellBlock.DoorbellTable[row].Offset)),
            (2, Gen.ULong[0, TestDoorbellBlock.BlockSize - 8])),
        Gen.OneOf<int>(1, 2, 4, 8),
        Gen.Frequency((1, Gen.Const(TestDoorbellBlock.KickDataMatch)), (4, Gen.ULong)))
        .Select((w, o, s, v) => new Access(w, o, s, v))
        .Array[1, 60];

    [Theory]
    [InlineData(DoorbellBindingMode.Trap, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, true)]
    public void Random_register_and_doorbell_traffic_never_breaks_the_vmm_loop_and_signals_exactly_the_matching_writes(DoorbellBindingMode mode, bool attach)
    {
        RequireKvm.Present();
        var table = TestDoorbellBlock.DoorbellTable;

        Accesses.Sample(accesses =>
        {
            using var guest = TestGuest.Create();
            var a = new Assembler(64);
            a.mov(rbx, DoorbellScenario.BlockGpa);
            foreach (var x in accesses)
            {
                a.mov(rax, x.Value);
                int d = (int)x.Offset;
                if (x.IsWrite) DoorbellSequence.Store(a, rbx, d, x.Size);
                else if (x.Size == 8) a.mov(rax, __qword_ptr[rbx + d]);
                else if (x.Size == 4) a.mov(eax, __dword_ptr[rbx + d]);
                else if (x.Size == 2) a.mov(ax, __word_ptr[rbx + d]);
                else a.mov(al, __byte_ptr[rbx + d]);
            }
            TestGuest.EmitFinish(a);
            guest.Load(a);
            using var binding = DoorbellBinding.Create(guest.Vm, table, DoorbellScenario.BlockGpa, mode);
            if (attach)
            {
                Assert.True(guest.Memory.TryGetShadowRegion(DoorbellScenario.GuestShadowGpa, 4096, out var shadow));
                binding.AttachGuestShadow(shadow);
            }
            var bus = new MmioBus();
            bus.Add(DoorbellScenario.BlockGpa, new TestDoorbellBlock(), binding);
            using var events = new DoorbellEvents();
            events.Add(binding);

            var result = guest.RunToFinish(bus);

            var expected = new ulong[table.Count];
            foreach (var x in accesses.Where(x => x.IsWrite))
                foreach (var (offset, size, value) in PageFragments(x))
                    if (table.TryFind(offset, out int row) && table[row].Width == size &&
                        (!table[row].HasDataMatch || (value & DoorbellSequence.Mask(size)) == table[row].DataMatch))
                        expected[row]++;
            var signals = new ulong[table.Count];
            var fired = new DoorbellEvent[32];
            int n;
            while ((n = events.Wait(fired, 0)) > 0)
                for (int i = 0; i < n; i++) signals[fired[i].Row] += fired[i].Signals;
            Assert.Equal(expected, signals);
            Assert.Equal(0, result.UnmappedAccesses);
        }, iter: 40, threads: 1);
    }

    /// <summary>
    /// The writes KVM makes of one guest store: x86 KVM's emulator splits a store that crosses a
    /// 4 KiB page boundary there (emulator_read_write in arch/x86/kvm/x86.c) and matches each
    /// fragment against the ioeventfds on its own, so an 8-byte store at 0xFFC rings the 4-byte
    /// doorbell at 0x1000 with its high half (in trap mode it reaches userspace as two exits).
    /// The block's GPA is page-aligned, so block offsets split where GPAs do.
    /// </summary>
    private static IEnumerable<(ulong Offset, int Size, ulong Value)> PageFragments(Access x)
    {
        int first = (int)Math.Min((ulong)x.Size, 0x1000 - (x.Offset & 0xFFF));
        yield return (x.Offset, first, x.Value);
        if (first < x.Size)
            yield return (x.Offset + (ulong)first, x.Size - first, x.Value >> (8 * first));
    }
}
