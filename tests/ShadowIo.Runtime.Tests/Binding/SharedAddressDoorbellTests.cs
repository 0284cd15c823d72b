using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;

namespace ShadowIo.Runtime.Tests.Binding;

/// <summary>
/// Issue 13 §2 on /dev/kvm: a CPL3 guest rings virtio-mmio's QueueNotify, eight datamatch
/// doorbells on one address, with seeded traffic (queue indices, values that name another queue,
/// values no queue has). In every binding mode exactly the row whose datamatch equals the written
/// bytes fires, and a value no row matches reaches the device's dispatch. Trap mode handles every
/// write on the exit path; guest-shadow mode registers one KVM ioeventfd per queue, so matching
/// writes never leave the guest; kernel post-write runs where the kernel has it.
/// </summary>
public sealed class SharedAddressDoorbellTests
{
    private const ulong BlockGpa = 0xFE00_0000;

    private static DoorbellTable Table => QueueNotifyBlock.DoorbellTable;

    private static readonly DoorbellWrite[] Writes = DoorbellSequence.Create(Table, seed: 13, writesPerRow: 6);

    [Fact]
    public void The_traffic_names_every_queue_fires_rows_it_was_not_written_to_and_misses_some_writes()
    {
        ulong[] signals = DoorbellSequence.ExpectedSignals(Table, Writes);
        Assert.All(signals, static s => Assert.True(s > 0));
        Assert.NotEmpty(DoorbellSequence.ExpectedDispatched(Table, Writes));
        Assert.Contains(Writes, static w => w.Row <= QueueNotifyBlock.DoorbellIndex.Queue7 && w.Value != (ulong)w.Row && w.Value < QueueNotifyBlock.Queues);
    }

    [Theory]
    [InlineData(DoorbellBindingMode.Trap, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, true)]
    public void Exactly_the_row_whose_datamatch_the_guest_wrote_fires(DoorbellBindingMode mode, bool attachGuestShadow)
    {
        RequireKvm.Present();

        Observation seen = Run(mode, attachGuestShadow);

        Assert.Equal(DoorbellSequence.ExpectedSignals(Table, Writes), seen.Signals);
        Assert.Equal(DoorbellSequence.ExpectedDispatched(Table, Writes), seen.Dispatched);
        int misses = seen.Dispatched.Length;
        const int finish = 1;
        if (mode == DoorbellBindingMode.Trap)
        {
            Assert.Equal(Writes.Length + finish, seen.ExitsToUserspace);
            Assert.Equal(Writes.Length - misses, seen.TrappedWrites);
        }
        else
        {
            // One KVM ioeventfd per queue, each with its datamatch: only the misses exit.
            Assert.Equal(misses + finish, seen.ExitsToUserspace);
            Assert.Equal(0, seen.TrappedWrites);
            Assert.Equal(Table.Count, seen.AssignedIoEventFds);
        }
    }

    [Fact]
    public void Kernel_post_write_fires_the_same_rows_when_the_kernel_has_it_and_otherwise_is_refused_clearly()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();

        if (vm.SupportsIoEventFdPostWrite)
        {
            Observation seen = Run(DoorbellBindingMode.KernelPostWrite, attachGuestShadow: false);
            Assert.Equal(DoorbellSequence.ExpectedSignals(Table, Writes), seen.Signals);
            Assert.Equal(DoorbellSequence.ExpectedDispatched(Table, Writes), seen.Dispatched);
            return;
        }

        var error = Assert.Throws<KvmException>(() => DoorbellBinding.Create(vm, Table, BlockGpa, DoorbellBindingMode.KernelPostWrite));
        Assert.Equal(KvmError.Unsupported, error.Error);
        Assert.Contains("KVM_IOEVENTFD_FLAG_POST_WRITE", error.Message, StringComparison.Ordinal);
    }

    private sealed record Observation(ulong[] Signals, (int Row, ulong Value)[] Dispatched, long ExitsToUserspace, long TrappedWrites, int AssignedIoEventFds);

    private static Observation Run(DoorbellBindingMode mode, bool attachGuestShadow)
    {
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        DoorbellSequence.EmitWrites(a, Table, BlockGpa, guestShadowGpa: null, Writes);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var binding = DoorbellBinding.Create(guest.Vm, Table, BlockGpa, mode);
        if (attachGuestShadow)
        {
            Assert.True(guest.Memory.TryGetShadowRegion(GuestLayout.Data, 4096, out var shadow));
            binding.AttachGuestShadow(shadow);
        }

        var device = new QueueNotifyBlock();
        var bus = new MmioBus();
        bus.Add(BlockGpa, device, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var counter = new DoorbellSignalCounter(events, source, Table.Count);

        GuestRunResult result = guest.RunToFinish(bus);
        ulong[] signals = counter.Stop();
        Assert.Equal(0, counter.OtherSourceEvents);
        return new Observation(signals, [.. device.DispatchedDoorbells], result.ExitsToUserspace, binding.TrappedWrites, binding.AssignedIoEventFds);
    }
}
