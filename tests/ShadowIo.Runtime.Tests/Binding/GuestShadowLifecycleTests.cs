using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;

namespace ShadowIo.Runtime.Tests.Binding;

/// <summary>Guest-shadow mode across attach and detach (an NVMe controller enabled, then reset).</summary>
public sealed class GuestShadowLifecycleTests
{
    [Fact]
    public void Detaching_returns_to_trapping_and_keeps_the_last_values_in_the_binding_shadow_page()
    {
        RequireKvm.Present();
        int sq1 = TestDoorbellBlock.DoorbellIndex.SqTail + 1;
        DoorbellWrite[] first = [new(sq1, 7), new(sq1, 9)], second = [new(sq1, 11)];
        using var guest = TestGuest.Create();
        using var binding = DoorbellBinding.Create(guest.Vm, TestDoorbellBlock.DoorbellTable, DoorbellScenario.BlockGpa, DoorbellBindingMode.GuestShadow);
        var bus = new MmioBus();
        bus.Add(DoorbellScenario.BlockGpa, new TestDoorbellBlock(), binding);
        Assert.True(guest.Memory.TryGetShadowRegion(DoorbellScenario.GuestShadowGpa, 4096, out var guestPage));

        binding.AttachGuestShadow(guestPage);
        var attached = Run(guest, bus, first);
        Assert.True(binding.IsGuestShadowAttached);
        Assert.Equal(guestPage.Address, binding.Shadow.Address);
        binding.DetachGuestShadow();
        Assert.Equal(9u, new TestDoorbellBlock.DoorbellReader(binding.Shadow).SqTail(1));
        var detached = Run(guest, bus, second);

        Assert.Equal(1, attached.ExitsToUserspace);
        Assert.Equal(2, detached.ExitsToUserspace);
        Assert.False(binding.IsGuestShadowAttached);
        Assert.Equal(binding.ShadowPage.Address, binding.Shadow.Address);
        Assert.Equal(11u, new TestDoorbellBlock.DoorbellReader(binding.Shadow).SqTail(1));
        Assert.Equal(1, binding.TrappedWrites);
    }

    [Fact]
    public void Attaching_outside_guest_shadow_mode_or_a_too_short_page_is_refused()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        Assert.True(guest.Memory.TryGetShadowRegion(DoorbellScenario.GuestShadowGpa, 4096, out var page));
        using var trap = DoorbellBinding.Create(guest.Vm, TestDoorbellBlock.DoorbellTable, DoorbellScenario.BlockGpa, DoorbellBindingMode.Trap);
        using var shadow = DoorbellBinding.Create(guest.Vm, TestDoorbellBlock.DoorbellTable, DoorbellScenario.BlockGpa + 0x10000, DoorbellBindingMode.GuestShadow);

        Assert.Throws<InvalidOperationException>(() => trap.AttachGuestShadow(page));
        Assert.Throws<ArgumentException>(() => shadow.AttachGuestShadow(page.Slice(0, 8)));
        Assert.False(shadow.IsGuestShadowAttached);
    }

    private static GuestRunResult Run(TestGuest guest, MmioBus bus, DoorbellWrite[] writes)
    {
        var a = new Assembler(64);
        DoorbellScenario.EmitWrites(a, writes);
        TestGuest.EmitFinish(a);
        guest.Load(a);
        return guest.RunToFinish(bus);
    }
}
