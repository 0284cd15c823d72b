using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Binding;

/// <summary>
/// Issue 13 §4 on /dev/kvm: a port I/O block at port 0xC000, rung by a CPL3 guest with
/// <c>out dx, al/ax/eax</c> (IOPL 3) with seeded traffic. Its doorbells bind on KVM's PIO bus
/// (KVM_IOEVENTFD_FLAG_PIO); what the ioeventfds do not take arrives as KVM_EXIT_IO and goes
/// through the <see cref="PortBus"/>, the binding's trapped rows first, with the same datamatch
/// rules as MMIO. Registers answer <c>in</c>, string I/O included; an unclaimed port reads all ones.
/// </summary>
public sealed class PortIoDoorbellTests
{
    private const ushort BlockPort = 0xC000;

    private static DoorbellTable Table => PortDoorbellBlock.DoorbellTable;

    private static readonly DoorbellWrite[] Writes = DoorbellSequence.Create(Table, seed: 4, writesPerRow: 6);

    private static readonly int ValueWrites = Writes.Count(static w => Table[w.Row].Kind == DoorbellKind.Value);

    [Fact]
    public void The_generated_table_says_port_and_the_traffic_covers_every_row_hits_and_misses()
    {
        Assert.Equal(AddressSpace.Port, Table.AddressSpace);
        Assert.Equal(AddressSpace.Mmio, QueueNotifyBlock.DoorbellTable.AddressSpace);
        Assert.All(DoorbellSequence.ExpectedSignals(Table, Writes), static s => Assert.True(s > 0));
        Assert.NotEmpty(DoorbellSequence.ExpectedDispatched(Table, Writes));
    }

    [Theory]
    [InlineData(DoorbellBindingMode.Trap, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, true)]
    public void Port_doorbells_fire_exactly_their_rows_and_carry_their_values_in_every_mode(DoorbellBindingMode mode, bool attachGuestShadow)
    {
        RequireKvm.Present();

        Observation seen = Run(mode, attachGuestShadow);

        Assert.Equal(DoorbellSequence.ExpectedSignals(Table, Writes), seen.Signals);
        Assert.Equal(DoorbellSequence.ExpectedDispatched(Table, Writes), seen.Dispatched);
        Assert.Equal(LastValues(), seen.LastValues);
        int misses = seen.Dispatched.Length;
        const int finish = 1;
        switch (mode, attachGuestShadow)
        {
            case (DoorbellBindingMode.Trap, _):
                // Every out exits: the binding takes the rows, the misses go on to dispatch.
                Assert.Equal(0, seen.AssignedIoEventFds);
                Assert.Equal(Writes.Length + finish, seen.Exits);
                Assert.Equal(Writes.Length, seen.PortOutputs);
                Assert.Equal(Writes.Length - misses, seen.TrappedWrites);
                break;
            case (DoorbellBindingMode.GuestShadow, false):
                // Notify rows are PIO ioeventfds; value rows trap until the guest names its shadow.
                Assert.Equal(3, seen.AssignedIoEventFds);
                Assert.Equal(ValueWrites + misses + finish, seen.Exits);
                Assert.Equal(ValueWrites, seen.TrappedWrites);
                break;
            default:
                // Every row a PIO ioeventfd, values from the guest's shadow page: only misses exit.
                Assert.Equal(Table.Count, seen.AssignedIoEventFds);
                Assert.Equal(misses + finish, seen.Exits);
                Assert.Equal(0, seen.TrappedWrites);
                break;
        }
    }

    [Fact]
    public void Kernel_post_write_binds_port_doorbells_when_the_kernel_has_it_and_otherwise_is_refused_clearly()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();

        if (vm.SupportsIoEventFdPostWrite)
        {
            Observation seen = Run(DoorbellBindingMode.KernelPostWrite, attachGuestShadow: false);
            Assert.Equal(DoorbellSequence.ExpectedSignals(Table, Writes), seen.Signals);
            Assert.Equal(LastValues(), seen.LastValues);
            Assert.Equal(seen.Dispatched.Length + 1, seen.Exits);
            return;
        }

        var error = Assert.Throws<KvmException>(() => DoorbellBinding.Create(vm, Table, BlockPort, DoorbellBindingMode.KernelPostWrite));
        Assert.Equal(KvmError.Unsupported, error.Error);
    }

    [Fact]
    public void Registers_answer_in_and_out_string_io_included_and_an_unclaimed_port_reads_all_ones()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        using var binding = DoorbellBinding.Create(guest.Vm, Table, BlockPort, DoorbellBindingMode.Trap);
        var device = new PortDoorbellBlock();
        guest.Ports.Add(BlockPort, device, binding);
        const ulong results = GuestLayout.Data + 0x800, source = GuestLayout.Data + 0x900;
        Assert.True(guest.Memory.TryWrite(source, [0x11, 0x22, 0x7E]));

        var a = new Assembler(64);
        a.mov(rbx, results);
        a.mov(edx, BlockPort + 0x08u);
        a.@in(eax, dx);                                   // Identity, 4 bytes
        a.mov(__dword_ptr[rbx], eax);
        a.mov(edx, BlockPort + 0x0Cu);
        a.mov(eax, 0xBEEFu);
        a.@out(dx, ax);                                   // Scratch = 0xBEEF
        a.mov(eax, 0u);
        a.@in(ax, dx);
        a.mov(__word_ptr[rbx + 4], ax);
        a.mov(rdi, results + 8);                          // rep insw: Scratch twice
        a.mov(ecx, 2u);
        a.rep.insw();
        a.mov(edx, BlockPort + 0x12u);                    // rep outsb: Status = 0x11, 0x22, 0x7E
        a.mov(rsi, source);
        a.mov(ecx, 3u);
        a.rep.outsb();
        a.@in(al, dx);
        a.mov(__byte_ptr[rbx + 12], al);
        a.mov(edx, 0x1234u);                              // no device there
        a.@in(eax, dx);
        a.mov(__dword_ptr[rbx + 16], eax);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        GuestRunResult result = guest.RunToFinish(new MmioBus());

        Assert.True(guest.Memory.TryRead(results, out uint identity));
        Assert.Equal(PortDoorbellBlock.IdentityReset, identity);
        Assert.True(guest.Memory.TryRead(results + 4, out ushort scratch));
        Assert.Equal(0xBEEF, scratch);
        Assert.True(guest.Memory.TryRead(results + 8, out uint scratchTwice));
        Assert.Equal(0xBEEF_BEEFu, scratchTwice);
        Assert.True(guest.Memory.TryRead(results + 12, out byte status));
        Assert.Equal(0x7E, status);
        Assert.Equal((byte)0x7E, device.Status);
        Assert.True(guest.Memory.TryRead(results + 16, out uint unclaimed));
        Assert.Equal(uint.MaxValue, unclaimed);
        Assert.Equal(1, result.UnmappedAccesses);
        Assert.Equal(0, binding.TrappedWrites);
        Assert.Empty(device.DispatchedDoorbells);
        Assert.True(result.PortInputs >= 5, $"{result.PortInputs} port input exits");
    }

    [Fact]
    public void A_port_block_is_refused_on_the_mmio_bus_and_past_the_port_space()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var binding = DoorbellBinding.Create(vm, Table, BlockPort, DoorbellBindingMode.Trap);

        var onMmio = Assert.Throws<ArgumentException>(() => new MmioBus().Add(BlockPort, new PortDoorbellBlock(), binding));
        Assert.Contains("PortBus", onMmio.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new PortBus().Add(0xFE00, new QueueNotifyBlock(), null));
        Assert.Throws<ArgumentOutOfRangeException>(() => DoorbellBinding.Create(vm, Table, 0xFFF0, DoorbellBindingMode.Trap));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PortBus().Add(0xFFF0, 0x20, new PortDoorbellBlock(), null));
    }

    private sealed record Observation(ulong[] Signals, (int Row, ulong Value)[] Dispatched, ulong[] LastValues, long Exits, long PortOutputs, long TrappedWrites, int AssignedIoEventFds);

    private static ulong[] LastValues() => DoorbellSequence.ExpectedLastValues(Table, Writes);

    private static Observation Run(DoorbellBindingMode mode, bool attachGuestShadow)
    {
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        DoorbellSequence.EmitWrites(a, Table, BlockPort, attachGuestShadow ? GuestLayout.Data : null, Writes);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var binding = DoorbellBinding.Create(guest.Vm, Table, BlockPort, mode);
        if (attachGuestShadow)
        {
            Assert.True(guest.Memory.TryGetShadowRegion(GuestLayout.Data, 4096, out var shadow));
            binding.AttachGuestShadow(shadow);
        }

        var device = new PortDoorbellBlock();
        guest.Ports.Add(BlockPort, device, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var counter = new DoorbellSignalCounter(events, source, Table.Count);

        GuestRunResult result = guest.RunToFinish(new MmioBus());
        ulong[] signals = counter.Stop();
        Assert.Equal(0, counter.OtherSourceEvents);
        var reader = new PortDoorbellBlock.DoorbellReader(binding.Shadow);
        ulong[] last = new ulong[Table.Count];
        last[PortDoorbellBlock.DoorbellIndex.ByteTail] = reader.ByteTail;
        last[PortDoorbellBlock.DoorbellIndex.WordTail] = reader.WordTail;
        last[PortDoorbellBlock.DoorbellIndex.DwordTail] = reader.DwordTail;
        return new Observation(signals, [.. device.DispatchedDoorbells], last, result.ExitsToUserspace, result.PortOutputs, binding.TrappedWrites, binding.AssignedIoEventFds);
    }
}
