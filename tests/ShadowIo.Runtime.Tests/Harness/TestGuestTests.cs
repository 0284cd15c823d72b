using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Harness;

public sealed class TestGuestTests
{
    [Fact]
    public void A_cpl3_guest_runs_to_its_finish_marker_and_its_registers_and_memory_are_visible()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        a.mov(rax, rdi);
        a.add(rax, rsi);
        a.mov(rbx, GuestLayout.Data);
        a.mov(__qword_ptr[rbx], rax);
        a.mov(ax, cs);      // CPL is CS.RPL
        a.and(eax, 3);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        var result = guest.RunToFinish(new MmioBus(), 40, 2);

        Assert.Equal(3UL, result.FinishValue);
        Assert.Equal(1, result.ExitsToUserspace);
        Assert.True(guest.Memory.TryRead(GuestLayout.Data, out ulong stored));
        Assert.Equal(42UL, stored);
        Assert.Equal(3UL, guest.Registers.Rax);
    }

    [Fact]
    public void A_store_crossing_a_page_inside_mmio_reaches_the_device_as_two_fragments_carrying_their_own_bytes()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var device = new RecordingDevice();
        var bus = new MmioBus();
        bus.Add(0xFE00_0000, 0x2000, device);
        var a = new Assembler(64);
        a.mov(rbx, 0xFE00_0000UL);
        a.mov(rax, 0x8877_6655_4433_2211UL);
        a.mov(__qword_ptr[rbx + 0xFFD], rax);      // 3 bytes in the first page, 5 in the second
        TestGuest.EmitFinish(a);
        guest.Load(a);

        guest.RunToFinish(bus);

        Assert.Equal([(0xFFDUL, 3, 0x33_2211UL), (0x1000UL, 5, 0x88_7766_5544UL)], device.Writes);
    }

    [Fact]
    public void Mmio_reads_and_writes_reach_the_bus_device_at_offsets_within_its_range()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var device = new RecordingDevice(readValue: 0x1234_5678);
        var bus = new MmioBus();
        bus.Add(0xFE00_0000, 0x1000, device);
        var a = new Assembler(64);
        a.mov(rbx, 0xFE00_0000UL);
        a.mov(__dword_ptr[rbx + 0x10], 0xAB);
        a.mov(eax, __dword_ptr[rbx + 0x20]);
        a.mov(rcx, GuestLayout.Data);
        a.mov(__dword_ptr[rcx], eax);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        var result = guest.RunToFinish(bus);

        Assert.Equal(3, result.ExitsToUserspace);
        Assert.Equal(1, result.MmioWrites);
        Assert.Equal(1, result.MmioReads);
        Assert.Equal([(0x10UL, 4, 0xABUL)], device.Writes);
        Assert.Equal([(0x20UL, 4)], device.Reads);
        Assert.True(guest.Memory.TryRead(GuestLayout.Data, out uint read));
        Assert.Equal(0x1234_5678u, read);
    }

    [Fact]
    public void Unmapped_mmio_is_counted_not_fatal_and_reads_all_ones()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        a.mov(rbx, 0xFD00_0000UL);
        a.mov(__dword_ptr[rbx], 1);
        a.mov(eax, __dword_ptr[rbx]);
        a.mov(rcx, GuestLayout.Data);
        a.mov(__dword_ptr[rcx], eax);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        var result = guest.RunToFinish(new MmioBus());

        Assert.Equal(2, result.UnmappedAccesses);
        Assert.True(guest.Memory.TryRead(GuestLayout.Data, out uint read));
        Assert.Equal(uint.MaxValue, read);
    }

    [Fact]
    public void An_unexpected_exit_is_a_clear_error_naming_the_exit()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        a.hlt();                                          // privileged at CPL3: #GP with no IDT, a triple fault
        guest.Load(a);

        var error = Assert.Throws<GuestExitException>(() => guest.RunToFinish(new MmioBus()));

        Assert.Equal(VcpuExitKind.Shutdown, error.Exit.Kind);
        Assert.Contains("could not deliver", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_guest_can_be_run_again_from_its_entry_state()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        a.lea(rax, __[rdi + 1]);
        TestGuest.EmitFinish(a);
        guest.Load(a);
        var bus = new MmioBus();

        Assert.Equal(8UL, guest.RunToFinish(bus, 7).FinishValue);
        Assert.Equal(10UL, guest.RunToFinish(bus, 9).FinishValue);
    }

    [Fact]
    public void Ram_size_outside_the_layout_is_refused()
    {
        RequireKvm.Present();
        Assert.Throws<ArgumentOutOfRangeException>(() => TestGuest.Create(0x1000));
    }

    [Fact]
    public void The_vcpu_loop_allocates_nothing_per_exit()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var device = new CountingDevice();
        var bus = new MmioBus();
        bus.Add(0xFE00_0000, 0x1000, device);
        var a = new Assembler(64);
        var loop = a.CreateLabel();
        a.mov(rbx, 0xFE00_0000UL);
        a.Label(ref loop);
        a.mov(__dword_ptr[rbx], edi);
        a.mov(eax, __dword_ptr[rbx + 4]);
        a.dec(edi);
        a.jnz(loop);
        TestGuest.EmitFinish(a);
        guest.Load(a);
        for (int i = 0; i < 3; i++) guest.RunToFinish(bus, 2000); // warm up: JIT tiers, on-stack replacement

        long start = GC.GetAllocatedBytesForCurrentThread();
        guest.RunToFinish(bus, 10);
        long shortRun = GC.GetAllocatedBytesForCurrentThread() - start;
        start = GC.GetAllocatedBytesForCurrentThread();
        var result = guest.RunToFinish(bus, 2000);
        long longRun = GC.GetAllocatedBytesForCurrentThread() - start;

        Assert.Equal(4001, result.ExitsToUserspace);
        Assert.Equal(shortRun, longRun);
    }

    private sealed class CountingDevice : ShadowIo.IMmioDevice
    {
        public long Accesses;

        public ulong ReadMmio(ulong offset, int size) => (ulong)++Accesses;

        public void WriteMmio(ulong offset, int size, ulong value) => Accesses++;
    }
}
