using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Devices.Virtio;
using ShadowIo.Testing;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Virtio.Tests.EndToEnd;

/// <summary>
/// A hostile CPL3 guest on /dev/kvm: it hands the device a looping descriptor chain and rings,
/// waits for DEVICE_NEEDS_RESET, then writes and reads every BAR offset at every width. The device
/// answers the spec's way and stays healthy; after the guest's reset a clean driver's writes and
/// reads go through with their data intact.
/// </summary>
public sealed class HostileGuestTests(ITestOutputHelper output)
{
    private const int NeedsResetPolls = 1 << 24;

    private static Assembler LoopingChainThenBarStorm()
    {
        var a = new Assembler(64);
        var poll = a.CreateLabel("poll");
        var seen = a.CreateLabel("seen");
        var storm = a.CreateLabel("storm");
        a.mov(rbp, VirtioGuestLayout.Bar);
        a.mov(r8, VirtioGuestLayout.Statistics);
        // desc 0: header → desc 1: data → back to desc 0 (virtq_desc: addr, len, flags, next).
        a.mov(rdi, VirtioGuestLayout.Descriptors);
        a.mov(rax, VirtioGuestLayout.Header(0));
        a.mov(__qword_ptr[rdi], rax);
        a.mov(__dword_ptr[rdi + 8], 16);
        a.mov(__word_ptr[rdi + 12], 1);
        a.mov(__word_ptr[rdi + 14], 1);
        a.mov(rax, VirtioGuestLayout.DataOf(0));
        a.mov(__qword_ptr[rdi + 16], rax);
        a.mov(__dword_ptr[rdi + 24], 512);
        a.mov(__word_ptr[rdi + 28], 1);
        a.mov(__word_ptr[rdi + 30], 0);
        a.mov(rcx, VirtioGuestLayout.Avail);
        a.mov(__word_ptr[rcx + 4], 0);                  // ring[0] = head 0
        a.mov(__word_ptr[rcx + 2], 1);                  // idx = 1
        a.mfence();
        a.mov(__word_ptr[rbp + (int)VirtioPciLayout.NotifyOffset], 0);
        // Wait (bounded) for the device to say it needs a reset.
        a.mov(rsi, NeedsResetPolls);
        a.Label(ref poll);
        a.movzx(eax, __byte_ptr[rbp + (int)VirtioCommonConfigRegisters.DeviceStatusOffset]);
        a.test(eax, (int)VirtioDeviceStatus.DeviceNeedsReset);
        a.jnz(seen);
        a.pause();
        a.dec(rsi);
        a.jnz(poll);
        a.Label(ref seen);
        a.mov(__qword_ptr[r8 + GuestCounters.StatusAfterDriverOk], rax);
        // Every BAR offset, every width, written with a pattern and read back.
        a.xor(ecx, ecx);
        a.mov(rdx, 0xA5C3_96E1_0F5A_3CC3UL);
        a.Label(ref storm);
        a.lea(rdi, __[rbp + rcx]);
        a.mov(__byte_ptr[rdi], dl);
        a.mov(__word_ptr[rdi], dx);
        a.mov(__dword_ptr[rdi], edx);
        a.mov(__qword_ptr[rdi], rdx);
        a.mov(al, __byte_ptr[rdi]);
        a.mov(rax, __qword_ptr[rdi]);
        a.rol(rdx, 7);
        a.add(ecx, 5);
        a.cmp(ecx, (int)VirtioPciLayout.BarSize - 8);
        a.jb(storm);
        a.xor(eax, eax);
        TestGuest.EmitFinish(a);
        return a;
    }

    [Theory]
    [InlineData(DoorbellBindingMode.Trap)]
    [InlineData(DoorbellBindingMode.GuestShadow)]
    public void A_looping_chain_and_a_bar_storm_leave_the_device_healthy_and_a_reset_recovers_it(DoorbellBindingMode binding)
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create(VirtioGuestLayout.RamSize);
        using var run = new VirtioGuestRun(guest, new VirtioMode(binding, EventIdx: true, Polling: false));
        run.SetUp();
        guest.Load(LoopingChainThenBarStorm());
        var storm = guest.RunToFinish(run.Bus);
        output.WriteLine($"{binding}: {storm.ExitsToUserspace} exits, {storm.MmioWrites} MMIO writes, {storm.MmioReads} reads; status seen by the guest 0x{run.Counter(GuestCounters.StatusAfterDriverOk):x}");
        run.CheckHealth();
        Assert.NotEqual(0UL, run.Counter(GuestCounters.StatusAfterDriverOk) & (ulong)VirtioDeviceStatus.DeviceNeedsReset);
        Assert.True(run.Device.Counters.NeedsResetRaised >= 1);
        Assert.Equal(0, run.Device.Counters.RequestsCompleted); // nothing of the looping chain was "completed"
        Assert.Equal(0, run.Device.InternalErrors);
        Assert.Equal(0, storm.UnmappedAccesses);

        // The guest resets and starts over: a clean driver gets its data through.
        run.SetUp();
        Assert.False(run.Device.Status.HasFlag(VirtioDeviceStatus.DeviceNeedsReset));
        var write = run.Run(VirtioBlkRequestType.Out, 0, 64, 8);
        var read = run.Run(VirtioBlkRequestType.In, 0, 64, 8);
        foreach (var phase in new[] { write, read })
        {
            Assert.Equal((64L, 0L, 0L, 0L, 0L), (phase.Completed, phase.StatusErrors, phase.OrderErrors, phase.DataErrors, phase.TimedOut));
        }
        for (long block = 0; block < 64; block++) Assert.True(run.BlockHoldsWrite(block, (int)(block % 8)), $"block {block}");
        run.CheckHealth();
    }
}
