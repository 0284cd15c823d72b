using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Native;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Hygiene;

/// <summary>
/// <c>DoorbellBinding.Dispose</c> while a real vCPU thread is trapping doorbell writes on a real KVM
/// VM: every guest write is accounted for exactly once across the dispose (trapped before it
/// returned, or dispatched to the device after), no trap completes after it, and no closed eventfd
/// number reused by a new eventfd is signalled.
/// </summary>
/// <remarks>
/// One dispose meets a trap in flight only by chance (a trap is a few hundred ns of a ~26 µs exit
/// here), so this test is the KVM-level accounting check, not the race detector. The race itself is
/// forced, forty times with two trap threads, by
/// <c>DoorbellSetTests.Traps_racing_dispose_never_touch_the_freed_page_or_a_reused_fd</c>, which
/// crashes or fails without the set's rundown protection.
/// </remarks>
[Collection(ResourceCountingCollection.Name)]
public sealed class TrapDisposeRaceTests
{
    private const ulong BlockGpa = 0xFE00_0000;
    private const int Writes = 20_000;

    [Fact]
    public void A_binding_disposed_while_its_vcpu_traps_doorbells_loses_no_write_and_touches_nothing_it_freed()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        a.mov(rbx, BlockGpa);
        a.mov(ecx, Writes);
        var loop = a.CreateLabel();
        a.Label(ref loop);
        a.mov(__dword_ptr[rbx + (int)TestDoorbellBlock.DoorbellTable[TestDoorbellBlock.DoorbellIndex.SqTail + 1].Offset], ecx);
        a.dec(ecx);
        a.jnz(loop);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        var binding = DoorbellBinding.Create(guest.Vm, TestDoorbellBlock.DoorbellTable, BlockGpa, DoorbellBindingMode.Trap);
        var device = new TestDoorbellBlock();
        var bus = new MmioBus();
        bus.Add(BlockGpa, device, binding);
        GuestRunResult? result = null;
        Exception? failure = null;
        var vcpu = new Thread(() =>
        {
            try
            {
                result = guest.RunToFinish(bus);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "vcpu" };
        vcpu.Start();
        Assert.True(SpinWait.SpinUntil(() => binding.TrappedWrites > Writes / 5 || !vcpu.IsAlive, TimeSpan.FromSeconds(60)));

        binding.Dispose();
        long trappedAtDispose = binding.TrappedWrites;
        // The lowest free numbers are the eventfds just closed: a trap that still held one of
        // them would signal one of these.
        var reused = Enumerable.Range(0, 32).Select(i => EventFd.Create($"reuse {i}")).ToArray();
        Assert.True(vcpu.Join(TimeSpan.FromSeconds(120)), "the vCPU did not finish its writes");

        Assert.Null(failure);
        Assert.NotNull(result);
        Assert.Equal(trappedAtDispose, binding.TrappedWrites);
        // Every write was either trapped (before Dispose returned) or, after, dispatched to the device.
        Assert.Equal(Writes, trappedAtDispose + device.DispatchedDoorbells.Count);
        Assert.NotEmpty(device.DispatchedDoorbells);
        Assert.True(trappedAtDispose > 0);
        foreach (var fd in reused)
        {
            Assert.Equal(0ul, fd.Drain());
            fd.Dispose();
        }
    }
}
