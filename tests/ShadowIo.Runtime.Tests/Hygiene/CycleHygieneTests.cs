using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;

namespace ShadowIo.Runtime.Tests.Hygiene;

/// <summary>Issue 5: create/bind/run/dispose cycles of a VM leave fds and mapped memory where they were.</summary>
[Collection(ResourceCountingCollection.Name)]
public sealed class CycleHygieneTests(ITestOutputHelper output)
{
    private const int Cycles = 1000;
    private const int WarmUpCycles = 20;

    /// <summary>
    /// The runtime's GC heaps and JIT may reserve address space while the test runs; a leaked cycle
    /// would cost at least its 4 MiB of guest RAM (4 GiB over 1000 cycles), so 64 MiB separates
    /// the two without being sensitive to the runtime's own bookkeeping.
    /// </summary>
    private const long MappedSlackBytes = 64L << 20;

    /// <summary>
    /// The runtime's own fd kinds (KVM, eventfd, epoll, shadow memfd) must come back exactly. Other
    /// fds belong to .NET and the test platform, which open files (assemblies, /proc entries) when
    /// they like: a full run once caught two such fds open at the end (105 -> 107). A leak of ours
    /// would cost at least one fd in each of the three binding modes' cycles, over 300, so fewer than
    /// 100 others separates the two the way <see cref="MappedSlackBytes"/> does for memory.
    /// </summary>
    private const int OtherFdSlack = Cycles / 10;

    [Fact]
    public void A_thousand_create_bind_run_dispose_cycles_leave_fds_and_mapped_memory_where_they_started()
    {
        RequireKvm.Present();
        var writes = DoorbellSequence.Create(DoorbellScenario.Table, seed: 7, writesPerRow: 1);
        var a = new Assembler(64);
        DoorbellScenario.EmitWrites(a, writes);
        TestGuest.EmitFinish(a);
        for (int i = 0; i < WarmUpCycles; i++) Cycle(a, i, writes.Length);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = ProcessResources.Now();
        var started = DateTime.UtcNow;

        for (int i = 0; i < Cycles; i++) Cycle(a, i, writes.Length);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var after = ProcessResources.Now();
        output.WriteLine($"{Cycles} cycles in {(DateTime.UtcNow - started).TotalSeconds:F1} s; before: {before}; after: {after}");
        Assert.True(before.KvmFds == after.KvmFds, $"runtime fds {before.KvmFds} -> {after.KvmFds}; new: {after.NewSince(before)}");
        Assert.True(after.OpenFds - before.OpenFds < OtherFdSlack, $"open fds {before.OpenFds} -> {after.OpenFds}; new: {after.NewSince(before)}");
        Assert.Equal(before.KvmAndShadowMappings, after.KvmAndShadowMappings);
        Assert.InRange(after.MappedBytes - before.MappedBytes, long.MinValue, MappedSlackBytes);
    }

    /// <summary>One VM life: trap, guest shadow before attach, guest shadow attached, in turn.</summary>
    private static void Cycle(Assembler code, int i, int writeCount)
    {
        using var guest = TestGuest.Create();
        guest.Load(code);
        var mode = i % 3 == 0 ? DoorbellBindingMode.Trap : DoorbellBindingMode.GuestShadow;
        using var binding = DoorbellBinding.Create(guest.Vm, DoorbellScenario.Table, DoorbellScenario.BlockGpa, mode);
        if (i % 3 == 2)
        {
            Assert.True(guest.Memory.TryGetShadowRegion(DoorbellScenario.GuestShadowGpa, 4096, out var shadow));
            binding.AttachGuestShadow(shadow);
        }
        using var events = new DoorbellEvents();
        events.Add(binding);
        var bus = new MmioBus();
        bus.Add(DoorbellScenario.BlockGpa, new TestDoorbellBlock(), binding);
        var result = guest.RunToFinish(bus);
        Assert.True(result.ExitsToUserspace >= 1 && result.ExitsToUserspace <= writeCount + 1);
        var fired = new DoorbellEvent[32];
        Assert.True(events.Wait(fired, 0) > 0);
    }
}
