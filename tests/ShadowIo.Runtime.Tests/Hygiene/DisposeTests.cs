using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;

namespace ShadowIo.Runtime.Tests.Hygiene;

/// <summary>Issue 3: after dispose nothing fires and no fd is left open.</summary>
[Collection(ResourceCountingCollection.Name)]
public sealed class DisposeTests
{
    [Theory]
    [InlineData(DoorbellBindingMode.Trap, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, true)]
    public void After_dispose_no_fd_is_left_open_and_every_doorbell_write_reaches_the_vmm_again(DoorbellBindingMode mode, bool attach)
    {
        RequireKvm.Present();
        var writes = DoorbellSequence.Create(DoorbellScenario.Table, seed: 5, writesPerRow: 2);
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        DoorbellScenario.EmitWrites(a, writes);
        TestGuest.EmitFinish(a);
        guest.Load(a);
        var before = ProcessResources.Now();

        var binding = DoorbellBinding.Create(guest.Vm, DoorbellScenario.Table, DoorbellScenario.BlockGpa, mode);
        if (attach)
        {
            Assert.True(guest.Memory.TryGetShadowRegion(DoorbellScenario.GuestShadowGpa, 4096, out var shadow));
            binding.AttachGuestShadow(shadow);
        }
        var events = new DoorbellEvents();
        events.Add(binding);
        var bound = new MmioBus();
        bound.Add(DoorbellScenario.BlockGpa, new TestDoorbellBlock(), binding);
        guest.RunToFinish(bound);
        Assert.True(ProcessResources.Now().KvmFds > before.KvmFds);
        binding.Dispose();
        events.Dispose();

        Assert.Equal(before.KvmFds, ProcessResources.Now().KvmFds);
        Assert.Equal(before.KvmAndShadowMappings, ProcessResources.Now().KvmAndShadowMappings);
        Assert.Equal(0, binding.AssignedIoEventFds);
        // With every ioeventfd deassigned, each doorbell write exits to userspace and reaches the device.
        var device = new TestDoorbellBlock();
        var plain = new MmioBus();
        plain.Add(DoorbellScenario.BlockGpa, device, doorbells: null);
        var result = guest.RunToFinish(plain);
        Assert.Equal(writes.Length + 1, result.ExitsToUserspace);
        Assert.Equal(writes.Length, device.DispatchedDoorbells.Count);
        // A disposed binding claims nothing (a VMM that forgot to unmap it would dispatch to the device).
        Assert.False(binding.TryHandleMmioWrite(DoorbellScenario.BlockGpa + 0x1000, 4, 1));
    }

    [Fact]
    public void A_binding_that_fails_half_way_undoes_what_it_registered()
    {
        RequireKvm.Present();
        using var kvm = ShadowIo.Kvm.KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var first = DoorbellBinding.Create(vm, DoorbellScenario.Table, DoorbellScenario.BlockGpa, DoorbellBindingMode.GuestShadow);
        int assigned = first.AssignedIoEventFds;
        // Same block, same address: KVM refuses the first duplicate ioeventfd (EEXIST). Fail once
        // before counting: the runtime opens its own assemblies lazily on a first exception.
        Func<DoorbellBinding> duplicate = () => DoorbellBinding.Create(vm, DoorbellScenario.Table, DoorbellScenario.BlockGpa, DoorbellBindingMode.GuestShadow);
        Assert.Throws<ShadowIo.Kvm.KvmException>(duplicate);
        var before = ProcessResources.Now();

        var error = Assert.Throws<ShadowIo.Kvm.KvmException>(duplicate);

        Assert.Equal(ShadowIo.Kvm.KvmError.AlreadyExists, error.Error);
        Assert.Equal(before.KvmFds, ProcessResources.Now().KvmFds);
        Assert.Equal(before.KvmAndShadowMappings, ProcessResources.Now().KvmAndShadowMappings);
        Assert.Equal(assigned, first.AssignedIoEventFds);
        Assert.True(assigned > 0);
    }
}
