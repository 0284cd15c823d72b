using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Devices.Virtio.Mmio;
using ShadowIo.Kvm;
using ShadowIo.Testing;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Virtio.Tests.Mmio;

/// <summary>
/// The virtio-mmio map's QueueNotify doorbells (eight notify doorbells on 0x050, datamatch = queue
/// index) bound on /dev/kvm in every binding mode, with a CPL3 guest writing seeded traffic
/// (<see cref="DoorbellSequence"/>: every queue's index, indices that name another queue, values no
/// queue has). Each write fires exactly the row whose datamatch equals it; trap mode handles every
/// write on the exit path and hands real queue indices to the device, ioeventfd modes keep matching
/// writes in the kernel and only the misses exit, which the map ignores. The same guest then reads
/// MagicValue and Version through an MMIO exit into the generated dispatch.
/// </summary>
public sealed class MmioNotifyBindingTests
{
    private const ulong MapGpa = 0xD000_0000;

    private static DoorbellTable Table => VirtioMmioRegisters.DoorbellTable;

    private static readonly DoorbellWrite[] Writes = DoorbellSequence.Create(Table, seed: 42, writesPerRow: 6);

    [Fact]
    public void The_traffic_rings_every_queue_crosses_queues_and_has_writes_no_queue_matches()
    {
        Assert.All(DoorbellSequence.ExpectedSignals(Table, Writes), static s => Assert.True(s > 0));
        var misses = DoorbellSequence.ExpectedDispatched(Table, Writes);
        Assert.NotEmpty(misses);
        Assert.All(misses, static m => Assert.True(m.Value >= VirtioMmioRegisters.QueueCount));
        Assert.Contains(Writes, static w => w.Value != (ulong)w.Row && w.Value < VirtioMmioRegisters.QueueCount);
    }

    [Theory]
    [InlineData(DoorbellBindingMode.Trap)]
    [InlineData(DoorbellBindingMode.GuestShadow)]
    public void Each_QueueNotify_write_fires_exactly_its_queues_row(DoorbellBindingMode mode)
    {
        RequireKvm.Present();

        Observation seen = Run(mode);

        Assert.Equal(DoorbellSequence.ExpectedSignals(Table, Writes), seen.Signals);
        Assert.Equal((VirtioMmioRegisters.Magic, VirtioMmioRegisters.ModernVersion), (seen.Magic, seen.Version));
        int misses = DoorbellSequence.ExpectedDispatched(Table, Writes).Length;
        const int identityReads = 2, finish = 1;
        if (mode == DoorbellBindingMode.Trap)
        {
            Assert.Equal(Writes.Length + identityReads + finish, seen.ExitsToUserspace);
            Assert.Equal(Writes.Length - misses, seen.TrappedWrites);
            // The trap path signals the row's eventfd and the map's dispatch never sees the write;
            // the misses do reach dispatch, and are no queue's.
            Assert.Empty(seen.Notified);
        }
        else
        {
            // One KVM ioeventfd per queue, each with its datamatch: only the misses and the reads exit.
            Assert.Equal(misses + identityReads + finish, seen.ExitsToUserspace);
            Assert.Equal(0, seen.TrappedWrites);
            Assert.Equal(Table.Count, seen.AssignedIoEventFds);
            Assert.Empty(seen.Notified);
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
            Observation seen = Run(DoorbellBindingMode.KernelPostWrite);
            Assert.Equal(DoorbellSequence.ExpectedSignals(Table, Writes), seen.Signals);
            Assert.Equal((VirtioMmioRegisters.Magic, VirtioMmioRegisters.ModernVersion), (seen.Magic, seen.Version));
            return;
        }

        var error = Assert.Throws<KvmException>(() => DoorbellBinding.Create(vm, Table, MapGpa, DoorbellBindingMode.KernelPostWrite));
        Assert.Equal(KvmError.Unsupported, error.Error);
        Assert.Contains("KVM_IOEVENTFD_FLAG_POST_WRITE", error.Message, StringComparison.Ordinal);
    }

    private sealed record Observation(ulong[] Signals, List<int> Notified, uint Magic, uint Version, long ExitsToUserspace, long TrappedWrites, int AssignedIoEventFds);

    private static Observation Run(DoorbellBindingMode mode)
    {
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        DoorbellSequence.EmitWrites(a, Table, MapGpa, guestShadowGpa: null, Writes);
        // RBX still holds the map's address: read the identity registers into guest RAM.
        a.mov(rsi, GuestLayout.Data);
        a.mov(eax, __dword_ptr[rbx + (int)VirtioMmioRegisters.MagicValueOffset]);
        a.mov(__dword_ptr[rsi], eax);
        a.mov(eax, __dword_ptr[rbx + (int)VirtioMmioRegisters.VersionOffset]);
        a.mov(__dword_ptr[rsi + 4], eax);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var binding = DoorbellBinding.Create(guest.Vm, Table, MapGpa, mode);
        var map = new VirtioMmioRegisters();
        var device = new MmioSpecLayoutTests.RecordingDevice();
        map.Attach(device);
        var bus = new MmioBus();
        bus.Add(MapGpa, map, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var counter = new DoorbellSignalCounter(events, source, Table.Count);

        GuestRunResult result = guest.RunToFinish(bus);
        ulong[] signals = counter.Stop();
        Assert.Equal(0, counter.OtherSourceEvents);
        Span<byte> identity = stackalloc byte[8];
        Assert.True(guest.Memory.TryRead(GuestLayout.Data, identity));
        return new Observation(signals, device.Notified,
            BitConverter.ToUInt32(identity[..4]), BitConverter.ToUInt32(identity[4..]),
            result.ExitsToUserspace, binding.TrappedWrites, binding.AssignedIoEventFds);
    }
}
