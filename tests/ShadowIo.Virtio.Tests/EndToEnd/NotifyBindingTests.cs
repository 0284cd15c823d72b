using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Devices.Virtio;
using ShadowIo.Kvm;
using ShadowIo.Testing;
using Xunit;

namespace ShadowIo.Virtio.Tests.EndToEnd;

/// <summary>
/// The notify region's doorbells bound on /dev/kvm in every binding mode, with seeded traffic over
/// every row (<see cref="DoorbellSequence"/>): each mode delivers exactly the expected signals,
/// trap mode by exits, ioeventfd mode without one; post-write is refused where the kernel lacks it.
/// </summary>
public sealed class NotifyBindingTests
{
    private const ulong NotifyGpa = VirtioGuestLayout.Bar + VirtioPciLayout.NotifyOffset;

    private static (ulong[] Signals, long Exits, long Trapped) Ring(DoorbellBindingMode mode, DoorbellWrite[] writes)
    {
        using var guest = TestGuest.Create();
        var table = VirtioNotifyRegisters.DoorbellTable;
        var a = new Assembler(64);
        DoorbellSequence.EmitWrites(a, table, NotifyGpa, guestShadowGpa: null, writes);
        TestGuest.EmitFinish(a);
        guest.Load(a);
        using var binding = DoorbellBinding.Create(guest.Vm, table, NotifyGpa, mode);
        var bus = new MmioBus();
        var registers = new VirtioNotifyRegisters();
        bus.Add(NotifyGpa, registers, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var counter = new DoorbellSignalCounter(events, source, table.Count);
        var result = guest.RunToFinish(bus);
        return (counter.Stop(), result.ExitsToUserspace - 1, binding.TrappedWrites);
    }

    [Theory]
    [InlineData(DoorbellBindingMode.Trap)]
    [InlineData(DoorbellBindingMode.GuestShadow)]
    public void Seeded_notify_traffic_fires_exactly_the_expected_rows(DoorbellBindingMode mode)
    {
        RequireKvm.Present();
        var table = VirtioNotifyRegisters.DoorbellTable;
        var writes = DoorbellSequence.Create(table, seed: 15);
        var (signals, exits, trapped) = Ring(mode, writes);
        Assert.Equal(DoorbellSequence.ExpectedSignals(table, writes), signals);
        if (mode == DoorbellBindingMode.Trap) Assert.Equal((writes.Length, writes.Length), ((int)exits, (int)trapped));
        else Assert.Equal((0L, 0L), (exits, trapped)); // notify-only rows: ioeventfds from the start, no guest page needed
    }

    [Fact]
    public void Kernel_post_write_is_used_where_the_kernel_has_it_and_refused_clearly_where_not()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        if (vm.SupportsIoEventFdPostWrite)
        {
            var writes = DoorbellSequence.Create(VirtioNotifyRegisters.DoorbellTable, seed: 16);
            var (signals, exits, _) = Ring(DoorbellBindingMode.KernelPostWrite, writes);
            Assert.Equal(DoorbellSequence.ExpectedSignals(VirtioNotifyRegisters.DoorbellTable, writes), signals);
            Assert.Equal(0L, exits);
            return;
        }
        var e = Assert.Throws<KvmException>(() => DoorbellBinding.Create(vm, VirtioNotifyRegisters.DoorbellTable, NotifyGpa, DoorbellBindingMode.KernelPostWrite));
        Assert.Equal(KvmError.Unsupported, e.Error);
    }
}
