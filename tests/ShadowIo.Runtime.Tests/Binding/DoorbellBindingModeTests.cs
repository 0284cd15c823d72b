using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;

namespace ShadowIo.Runtime.Tests.Binding;

/// <summary>Issue 3: for each mode, a guest rings a block's doorbells; the consumer sees everything.</summary>
public sealed class DoorbellBindingModeTests
{
    private static readonly DoorbellWrite[] Writes = DoorbellSequence.Create(DoorbellScenario.Table, seed: 3);

    [Theory]
    [InlineData(DoorbellBindingMode.Trap, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, true)]
    public void The_consumer_sees_every_notification_and_the_last_value_of_every_doorbell(DoorbellBindingMode mode, bool attach)
    {
        RequireKvm.Present();

        var seen = DoorbellScenario.Run(mode, Writes, attach);

        Assert.Equal(DoorbellSequence.ExpectedSignals(DoorbellScenario.Table, Writes), seen.Signals);
        Assert.Equal(DoorbellSequence.ExpectedLastValues(DoorbellScenario.Table, Writes), seen.LastValues);
    }

    [Fact]
    public void Trap_and_guest_shadow_observations_are_identical()
    {
        RequireKvm.Present();

        var trap = DoorbellScenario.Run(DoorbellBindingMode.Trap, Writes, attachGuestShadow: false);
        var beforeAttach = DoorbellScenario.Run(DoorbellBindingMode.GuestShadow, Writes, attachGuestShadow: false);
        var attached = DoorbellScenario.Run(DoorbellBindingMode.GuestShadow, Writes, attachGuestShadow: true);

        Assert.Equal(trap.Observed, beforeAttach.Observed);
        Assert.Equal(trap.Observed, attached.Observed);
    }

    [Fact]
    public void Trap_mode_exits_for_every_doorbell_write_and_an_attached_guest_shadow_for_none_that_match()
    {
        RequireKvm.Present();
        int kickMisses = Writes.Count(w => w.Row == TestDoorbellBlock.DoorbellIndex.Kick && w.Value != TestDoorbellBlock.KickDataMatch);
        const int registerAccesses = 2, finish = 1;

        var trap = DoorbellScenario.Run(DoorbellBindingMode.Trap, Writes, attachGuestShadow: false);
        var attached = DoorbellScenario.Run(DoorbellBindingMode.GuestShadow, Writes, attachGuestShadow: true);

        Assert.Equal(Writes.Length + registerAccesses + finish, trap.ExitsToUserspace);
        Assert.Equal(Writes.Length - kickMisses, trap.TrappedWrites);
        Assert.Equal(kickMisses + registerAccesses + finish, attached.ExitsToUserspace);
        Assert.Equal(0, attached.TrappedWrites);
    }

    [Theory]
    [InlineData(DoorbellBindingMode.Trap, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, true)]
    public void A_datamatch_doorbell_fires_only_on_its_value_and_other_values_reach_the_device(DoorbellBindingMode mode, bool attach)
    {
        RequireKvm.Present();
        int kick = TestDoorbellBlock.DoorbellIndex.Kick;
        DoorbellWrite[] writes = [new(kick, 0x5A), new(kick, 0x5B), new(kick, 0), new(kick, 0x5A), new(kick, 0x15A)];

        var seen = DoorbellScenario.Run(mode, writes, attach);

        Assert.Equal(2UL, seen.Signals[kick]);
        Assert.Equal([(kick, 0x5BUL), (kick, 0UL), (kick, 0x15AUL)], seen.Dispatched);
    }

    [Fact]
    public void Ordinary_register_mmio_goes_through_the_block_dispatch()
    {
        RequireKvm.Present();

        var seen = DoorbellScenario.Run(DoorbellBindingMode.Trap, [], attachGuestShadow: false);

        Assert.Equal(DoorbellScenario.ControlValue, seen.Control);
        Assert.Equal(1u, seen.StatusSeenByGuest);
    }

    [Fact]
    public void Kernel_post_write_runs_the_sequence_when_the_kernel_has_it_and_otherwise_fails_clearly()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();

        if (vm.SupportsIoEventFdPostWrite)
        {
            var seen = DoorbellScenario.Run(DoorbellBindingMode.KernelPostWrite, Writes, attachGuestShadow: false);
            Assert.Equal(DoorbellSequence.ExpectedSignals(DoorbellScenario.Table, Writes), seen.Signals);
            Assert.Equal(DoorbellSequence.ExpectedLastValues(DoorbellScenario.Table, Writes), seen.LastValues);
            return;
        }

        var error = Assert.Throws<KvmException>(() => DoorbellBinding.Create(vm, DoorbellScenario.Table, DoorbellScenario.BlockGpa, DoorbellBindingMode.KernelPostWrite));
        Assert.Equal(KvmError.Unsupported, error.Error);
        Assert.Contains("KVM_IOEVENTFD_FLAG_POST_WRITE", error.Message, StringComparison.Ordinal);
        Assert.Contains("EINVAL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Best_available_resolves_to_a_concrete_mode_post_write_only_when_the_kernel_accepts_it()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();

        using var binding = DoorbellBinding.Create(vm, DoorbellScenario.Table, DoorbellScenario.BlockGpa, DoorbellBindingMode.BestAvailable);

        Assert.Equal(vm.SupportsIoEventFdPostWrite ? DoorbellBindingMode.KernelPostWrite : DoorbellBindingMode.GuestShadow, binding.Mode);
    }
}
