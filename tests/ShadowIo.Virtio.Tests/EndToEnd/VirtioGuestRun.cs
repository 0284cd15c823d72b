using System.Buffers.Binary;
using ShadowIo.Binding;
using ShadowIo.Devices.Nvme;
using ShadowIo.Devices.Virtio;
using ShadowIo.Hosting;
using ShadowIo.Testing;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Virtio.Tests.EndToEnd;

/// <summary>How one run binds and serves the notify doorbells.</summary>
/// <param name="Binding">Trap (every notify exits to the VMM) or GuestShadow (KVM ioeventfds on the notify rows from the start).</param>
/// <param name="EventIdx">Whether the guest negotiates VIRTIO_F_EVENT_IDX.</param>
/// <param name="Polling">Whether the device thread polls while busy (the hand-over) or waits for each notify.</param>
/// <param name="NeverSleeps">
/// Polling only: the device thread's idle time before it re-arms notifications and sleeps outlasts
/// the run, so once woken it polls to the end. What the guest then writes depends only on what the
/// device published in memory, not on how the scheduler treats the device thread.
/// </param>
internal readonly record struct VirtioMode(DoorbellBindingMode Binding, bool EventIdx, bool Polling, bool NeverSleeps = false)
{
    public override string ToString() => $"{(Binding == DoorbellBindingMode.Trap ? "trap" : "ioeventfd")}{(EventIdx ? "+event-idx" : "")}{(Polling ? "+polling" : "")}";
}

/// <summary>What one phase of guest requests did, from the guest's books, the vCPU loop's and the device's.</summary>
internal sealed record PhaseResult(
    long Requests, long Completed, long KickDecisions, long NotifyWrites, long NotifiesSkipped,
    long StatusErrors, long OrderErrors, long DataErrors, long TimedOut,
    long ExitsToUserspace, long MmioWrites, long DeviceNotifications, long RunnerEvents, long InterruptsRequested, long RearmHits, long RunnerSleeps);

/// <summary>
/// The VMM side of a CPL3 virtio-blk guest: the device on the guest's MMIO bus at
/// <see cref="VirtioGuestLayout.Bar"/>, its notify doorbells bound in the mode under test, the
/// runtime's <see cref="DeviceRunner"/> as the device thread, a memory disk.
/// </summary>
internal sealed class VirtioGuestRun : IDisposable
{
    public const long DiskBytes = 8L << 20;

    private readonly DoorbellEvents _events = new();
    private readonly DeviceRunner _runner;
    private GuestCounterSnapshot _last;

    public VirtioGuestRun(TestGuest guest, VirtioMode mode)
    {
        Guest = guest;
        Mode = mode;
        Storage = new MemoryBlockStorage(DiskBytes);
        Device = new VirtioBlkDevice(guest.Memory, Storage, new VirtioBlkDeviceOptions { MaxQueueSize = VirtioGuestLayout.QueueSize });
        Binding = DoorbellBinding.Create(guest.Vm, VirtioBlkDevice.DoorbellTable, VirtioGuestLayout.Bar + VirtioPciLayout.NotifyOffset, mode.Binding);
        Bus = new MmioBus();
        Device.AddTo(Bus, VirtioGuestLayout.Bar, Binding);
        _events.Add(Binding);
        _runner = new DeviceRunner(Device, _events, new DeviceRunnerOptions
        {
            Mode = mode.Polling ? DeviceRunnerMode.AdaptivePolling : DeviceRunnerMode.EventDriven,
            PollIdle = mode.NeverSleeps ? TimeSpan.FromMinutes(10) : TimeSpan.FromMilliseconds(20),
            ThreadName = "virtio-blk",
            DeviceName = "virtio-blk device",
        });
    }

    public TestGuest Guest { get; }

    public VirtioMode Mode { get; }

    public MemoryBlockStorage Storage { get; }

    public VirtioBlkDevice Device { get; }

    public DoorbellBinding Binding { get; }

    public MmioBus Bus { get; }

    public VirtioFeatures Features => VirtioFeatures.Version1 | VirtioFeatures.RingIndirectDesc | VirtioFeatures.BlkFlush
        | (Mode.EventIdx ? VirtioFeatures.RingEventIdx : 0);

    /// <summary>The handshake; returns its exits. The host then builds the slots' indirect tables.</summary>
    public GuestRunResult SetUp()
    {
        var memory = Guest.Memory;
        for (ulong a = VirtioGuestLayout.Statistics; a < VirtioGuestLayout.Data; a += 8) memory.TryWrite(a, 0UL);
        Guest.Load(VirtioGuestDriver.Setup(Features));
        var result = Guest.RunToFinish(Bus);
        // A polling guest asks for no interrupts: NO_INTERRUPT without EVENT_IDX, a used_event it never reaches with it.
        memory.TryWrite(VirtioGuestLayout.Avail, Mode.EventIdx ? (ushort)0 : (ushort)1);
        memory.TryWrite(VirtioGuestLayout.UsedEvent, (ushort)0x8000);
        _runner.CheckHealth();
        return result;
    }

    public ulong Counter(int offset) => Guest.Memory.TryRead(VirtioGuestLayout.Statistics + (ulong)offset, out ulong v) ? v : ulong.MaxValue;

    /// <summary>Points every slot's descriptor at its indirect table, with the data buffer writable for IN.</summary>
    public void BuildSlots(VirtioBlkRequestType type, int depth)
    {
        var memory = Guest.Memory;
        Span<byte> pattern = stackalloc byte[VirtioGuestLayout.BlockBytes];
        for (int slot = 0; slot < depth; slot++)
        {
            ulong table = VirtioGuestLayout.IndirectOf(slot);
            WriteDescriptor(table, 0, VirtioGuestLayout.Header(slot), 16, 1, 1);
            WriteDescriptor(table, 1, VirtioGuestLayout.DataOf(slot), VirtioGuestLayout.BlockBytes, (ushort)(type == VirtioBlkRequestType.In ? 3 : 1), 2);
            WriteDescriptor(table, 2, VirtioGuestLayout.Header(slot) + 16, 1, 2, 0);
            WriteDescriptor(VirtioGuestLayout.Descriptors, slot, table, 48, 4, 0);
            if (type == VirtioBlkRequestType.Out)
            {
                // The slot's pattern; the guest stamps the block number over the first and last qword.
                for (int i = 0; i < pattern.Length; i++) pattern[i] = (byte)(slot * 31 + i);
                memory.TryWrite(VirtioGuestLayout.DataOf(slot), pattern);
            }
        }
        void WriteDescriptor(ulong tableAddress, int index, ulong address, uint length, ushort flags, ushort next)
        {
            var d = new byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(d, address);
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), length);
            BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(12), flags);
            BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(14), next);
            memory.TryWrite(tableAddress + 16UL * (ulong)index, d);
        }
    }

    /// <summary>One phase: <paramref name="count"/> requests at <paramref name="depth"/> from <paramref name="firstBlock"/>.</summary>
    public PhaseResult Run(VirtioBlkRequestType type, long firstBlock, int count, int depth)
    {
        BuildSlots(type, depth);
        _last = Snapshot();
        long notificationsBefore = Device.Counters.Notifications, eventsBefore = _runner.DoorbellEvents;
        long interruptsBefore = Device.Counters.InterruptsRequested, rearmBefore = Device.Counters.RearmRereadHits, sleepsBefore = _runner.Sleeps;
        Guest.Load(VirtioGuestDriver.Requests(type, firstBlock, count, depth, Mode.EventIdx));
        var result = Guest.RunToFinish(Bus);
        _runner.CheckHealth();
        var now = Snapshot();
        return new PhaseResult(count,
            now.Completed - _last.Completed, now.KickDecisions - _last.KickDecisions, now.NotifyWrites - _last.NotifyWrites,
            now.NotifiesSkipped - _last.NotifiesSkipped, now.StatusErrors - _last.StatusErrors, now.OrderErrors - _last.OrderErrors,
            now.DataErrors - _last.DataErrors, now.TimedOut - _last.TimedOut,
            result.ExitsToUserspace - 1, result.MmioWrites, Device.Counters.Notifications - notificationsBefore, _runner.DoorbellEvents - eventsBefore,
            Device.Counters.InterruptsRequested - interruptsBefore, Device.Counters.RearmRereadHits - rearmBefore, _runner.Sleeps - sleepsBefore);
    }

    /// <summary>Whether block <paramref name="block"/> on disk is what request <paramref name="request"/> of an OUT phase at <paramref name="depth"/> wrote.</summary>
    public bool BlockHoldsWrite(long block, int slot)
    {
        var data = new byte[VirtioGuestLayout.BlockBytes];
        if (!Storage.TryRead(block * VirtioGuestLayout.BlockBytes, data)) return false;
        for (int i = 8; i < data.Length - 8; i++)
            if (data[i] != (byte)(slot * 31 + i)) return false;
        return BinaryPrimitives.ReadInt64LittleEndian(data) == block && BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(data.Length - 8)) == ~block;
    }

    private GuestCounterSnapshot Snapshot() => new(
        (long)Counter(GuestCounters.Completed), (long)Counter(GuestCounters.KickDecisions), (long)Counter(GuestCounters.NotifyWrites),
        (long)Counter(GuestCounters.NotifiesSkipped), (long)Counter(GuestCounters.StatusErrors), (long)Counter(GuestCounters.OrderErrors),
        (long)Counter(GuestCounters.DataErrors), (long)Counter(GuestCounters.TimedOut));

    private readonly record struct GuestCounterSnapshot(long Completed, long KickDecisions, long NotifyWrites, long NotifiesSkipped,
        long StatusErrors, long OrderErrors, long DataErrors, long TimedOut);

    public void CheckHealth() => _runner.CheckHealth();

    public void Dispose()
    {
        _runner.Dispose();
        _events.Dispose();
        Binding.Dispose();
        Storage.Dispose();
    }
}
