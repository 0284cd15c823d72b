using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Devices.Virtio.Legacy;
using ShadowIo.Kvm;
using ShadowIo.Testing;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Virtio.Tests.Legacy;

/// <summary>
/// The legacy virtio-pci header as an I/O BAR at port 0xC040 on /dev/kvm: a CPL3 guest (IOPL 3)
/// rings Queue Notify with <c>out dx, ax</c> in seeded traffic (<see cref="DoorbellSequence"/> emits
/// port writes for a port table), eight datamatch doorbells on one port, each write firing exactly
/// its queue's row in every binding mode; then it sets Device Status with <c>out dx, al</c>, reads it
/// back with <c>in al, dx</c>, and reads ISR Status twice with <c>in</c> (the first read returns and
/// clears it).
/// </summary>
public sealed class LegacyNotifyPortTests
{
    private const ushort IoBar = 0xC040;

    private static DoorbellTable Table => VirtioLegacyPciRegisters.DoorbellTable;

    private static readonly DoorbellWrite[] Writes = DoorbellSequence.Create(Table, seed: 410, writesPerRow: 6);

    private const byte DriverStatus = 0x03; // ACKNOWLEDGE | DRIVER (section 3.1.1, steps 2 and 3)

    [Fact]
    public void The_map_is_a_port_block_and_the_traffic_crosses_queues_and_misses()
    {
        Assert.Equal(AddressSpace.Port, Table.AddressSpace);
        Assert.All(DoorbellSequence.ExpectedSignals(Table, Writes), static s => Assert.True(s > 0));
        var misses = DoorbellSequence.ExpectedDispatched(Table, Writes);
        Assert.NotEmpty(misses);
        Assert.All(misses, static m => Assert.True(m.Value >= VirtioLegacyPciRegisters.QueueCount));
        Assert.Contains(Writes, static w => w.Value != (ulong)w.Row && w.Value < VirtioLegacyPciRegisters.QueueCount);
    }

    [Theory]
    [InlineData(DoorbellBindingMode.Trap)]
    [InlineData(DoorbellBindingMode.GuestShadow)]
    public void Each_queue_notify_out_fires_exactly_its_queues_row_and_in_reads_the_status(DoorbellBindingMode mode)
    {
        RequireKvm.Present();

        Observation seen = Run(mode);

        Assert.Equal(DoorbellSequence.ExpectedSignals(Table, Writes), seen.Signals);
        Assert.Equal((DriverStatus, DriverStatus, (byte)3, (byte)0), (seen.Device.DeviceStatus, seen.StatusRead, seen.FirstIsrRead, seen.SecondIsrRead));
        Assert.Equal([(VirtioLegacyPciRegister.DeviceStatus, (uint)DriverStatus)], seen.Written);
        Assert.Empty(seen.Notified); // bound rows signal their eventfd; the misses are no queue's
        int misses = DoorbellSequence.ExpectedDispatched(Table, Writes).Length;
        const int statusOut = 1, ins = 3, finish = 1;
        if (mode == DoorbellBindingMode.Trap)
        {
            Assert.Equal(0, seen.AssignedIoEventFds);
            Assert.Equal(Writes.Length + statusOut + ins + finish, seen.Exits);
            Assert.Equal(Writes.Length - misses, seen.TrappedWrites);
        }
        else
        {
            // Notify-only rows: one PIO ioeventfd per queue from the start, only the misses exit.
            Assert.Equal(Table.Count, seen.AssignedIoEventFds);
            Assert.Equal(misses + statusOut + ins + finish, seen.Exits);
            Assert.Equal(0, seen.TrappedWrites);
        }
        Assert.Equal(ins, seen.PortInputs);
    }

    [Fact]
    public void Kernel_post_write_fires_the_same_rows_when_the_kernel_has_it_and_otherwise_is_refused_clearly()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();

        if (vm.SupportsIoEventFdPostWrite)
        {
            Observation seen = Run(DoorbellBindingMode.KernelPostWrite);
            Assert.Equal(DoorbellSequence.ExpectedSignals(Table, Writes), seen.Signals);
            Assert.Equal(DriverStatus, seen.StatusRead);
            return;
        }

        var error = Assert.Throws<KvmException>(() => DoorbellBinding.Create(vm, Table, IoBar, DoorbellBindingMode.KernelPostWrite));
        Assert.Equal(KvmError.Unsupported, error.Error);
        Assert.Contains("KVM_IOEVENTFD_FLAG_POST_WRITE", error.Message, StringComparison.Ordinal);
    }

    private sealed record Observation(
        ulong[] Signals, VirtioLegacyPciRegisters Device, List<(VirtioLegacyPciRegister, uint)> Written, List<int> Notified,
        byte StatusRead, byte FirstIsrRead, byte SecondIsrRead, long Exits, long PortInputs, long TrappedWrites, int AssignedIoEventFds);

    private static Observation Run(DoorbellBindingMode mode)
    {
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        DoorbellSequence.EmitWrites(a, Table, IoBar, guestShadowGpa: null, Writes);
        a.mov(rbx, GuestLayout.Data);
        a.mov(edx, (uint)(IoBar + VirtioLegacyPciRegisters.DeviceStatusOffset));
        a.mov(eax, (uint)DriverStatus);
        a.@out(dx, al);
        a.mov(eax, 0u);
        a.@in(al, dx);
        a.mov(__byte_ptr[rbx], al);
        a.mov(edx, (uint)(IoBar + VirtioLegacyPciRegisters.IsrStatusOffset));
        a.@in(al, dx);
        a.mov(__byte_ptr[rbx + 1], al);
        a.@in(al, dx);
        a.mov(__byte_ptr[rbx + 2], al);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var binding = DoorbellBinding.Create(guest.Vm, Table, IoBar, mode);
        var map = new VirtioLegacyPciRegisters();
        map.IsrStatusQueueInterrupt = true;
        map.IsrStatusDeviceConfigurationInterrupt = true;
        var device = new LegacySpecLayoutTests.RecordingDevice();
        map.Attach(device);
        guest.Ports.Add(IoBar, map, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var counter = new DoorbellSignalCounter(events, source, Table.Count);

        GuestRunResult result = guest.RunToFinish(new MmioBus());
        ulong[] signals = counter.Stop();
        Assert.Equal(0, counter.OtherSourceEvents);
        Span<byte> reads = stackalloc byte[3];
        Assert.True(guest.Memory.TryRead(GuestLayout.Data, reads));
        return new Observation(signals, map, device.Written, device.Notified, reads[0], reads[1], reads[2],
            result.ExitsToUserspace, result.PortInputs, binding.TrappedWrites, binding.AssignedIoEventFds);
    }
}
