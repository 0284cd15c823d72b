using Xunit;
using System.Buffers.Binary;
using ShadowIo.Devices.Storage;
using ShadowIo.Devices.Virtio;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using ShadowIo.VfioUser.Server;
using static ShadowIo.VfioUser.Tests.Server.VfioUserServerTests;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Server;

/// <summary>
/// The virtio-blk device as a PCI function (<see cref="VirtioPciFunction"/>) served over a
/// socketpair as QEMU's vfio-user-pci would see it: the modern virtio-pci identity and vendor
/// capabilities (virtio 1.2 §4.1.2, §4.1.4), the notify doorbells inside BAR4, and the
/// config/queue vector registers raising MSI-X, nothing for VIRTIO_MSI_NO_VECTOR (§4.1.5.1.2), INTx without MSI-X.
/// </summary>
public sealed class VirtioPciFunctionTests
{
    private const uint Bar = VirtioPciLayout.Bar;
    private const ulong DeviceStatus = 0x14, ConfigMsixVector = 0x10, QueueMsixVector = 0x1a, QueueEnable = 0x1c;
    private const ulong DriverFeatureSelect = 0x08, DriverFeature = 0x0c;

    private sealed class Served : IDisposable
    {
        public Served()
            : this(VirtioNotifyDelivery.Doorbells)
        {
        }

        public Served(VirtioNotifyDelivery notify)
        {
            var memory = new GuestMemory();
            Storage = new MemoryBlockStorage(1 << 20);
            Device = new VirtioBlkDevice(memory, Storage);
            Pci = new VirtioPciFunction(Device, notify);
            Server = new VfioUserServer(Pci.Function, memory);
            Pci.ConnectInterrupts(() => Server.Interrupts.MsixMode, Server.Interrupts.Raise);
            var (server, client) = VfioUserChannel.CreatePair(maxSendFds: 253);
            Running = Server.Serve(server);
            Client = new TestClient(client);
            var reply = Client.Request(VfioUserCommand.Version, Client.VersionPayload("""{"capabilities":{"max_msg_fds":16}}"""));
            Assert.False(reply.Header.IsError);
        }

        public MemoryBlockStorage Storage { get; }
        public VirtioBlkDevice Device { get; }
        public VirtioPciFunction Pci { get; }
        public VfioUserServer Server { get; }
        public TestClient Client { get; }
        public Task Running { get; }

        public void Write(ulong offset, int size, ulong value)
        {
            var bytes = new byte[size];
            for (int i = 0; i < size; i++) bytes[i] = (byte)(value >> (8 * i));
            Assert.False(Client.Request(VfioUserCommand.RegionWrite, VfioUserServerTests.Write(offset, Bar, bytes)).Header.IsError);
        }

        public ulong ReadBar(ulong offset, int size)
        {
            var reply = Client.Request(VfioUserCommand.RegionRead, Read(offset, Bar, (uint)size));
            ulong value = 0;
            for (int i = 0; i < size; i++) value |= (ulong)reply.Payload[RegionAccess.HeaderSize + i] << (8 * i);
            return value;
        }

        /// <summary>
        /// The driver's handshake to DRIVER_OK (3.1.1), then queue_enable of a queue whose rings are
        /// outside guest memory (none is mapped): the device sets DEVICE_NEEDS_RESET and, DRIVER_OK
        /// being set, sends a configuration-change interrupt on config_msix_vector (2.1.2).
        /// </summary>
        public void RaiseConfigurationChange(ushort configVector)
        {
            Write(DeviceStatus, 1, 0);
            Write(DeviceStatus, 1, 1);
            Write(DeviceStatus, 1, 3);
            Write(DriverFeatureSelect, 4, 1);
            Write(DriverFeature, 4, 1);   // VERSION_1 (bit 32)
            Write(DeviceStatus, 1, 0x0b);
            Assert.Equal(0x0bul, ReadBar(DeviceStatus, 1));
            Write(ConfigMsixVector, 2, configVector);
            Write(DeviceStatus, 1, 0x0f);
            Write(QueueEnable, 2, 1);
            Assert.Equal(VirtqueueError.InvalidQueueConfiguration, Device.NeedsResetReason);
        }

        public void Dispose()
        {
            Client.Dispose();
            Running.Wait(TimeSpan.FromSeconds(10));
            Server.Dispose();
            Pci.Dispose();
            Storage.Dispose();
        }
    }

    [Fact]
    public void Config_space_is_a_modern_virtio_blk_function_with_msix_and_the_five_vendor_capabilities()
    {
        using var served = new Served();
        var reply = served.Client.Request(VfioUserCommand.RegionRead, Read(0, RegionIndex.Config, 256));
        Assert.Equal(0, RegionAccess.DecodeReadReply(reply.Payload, new RegionAccess(0, RegionIndex.Config, 256), out var config));
        Assert.Equal(0x1af4, BinaryPrimitives.ReadUInt16LittleEndian(config));
        Assert.Equal(0x1042, BinaryPrimitives.ReadUInt16LittleEndian(config[2..]));   // 0x1040 + device ID 2 (4.1.2.1)
        Assert.True(config[8] >= 1);                                                  // revision ≥ 1: modern only
        Assert.Equal(0x1af4, BinaryPrimitives.ReadUInt16LittleEndian(config[0x2c..]));
        Assert.Equal(0x0u, BinaryPrimitives.ReadUInt32LittleEndian(config[0x14..]));  // BAR1: 32-bit memory (MSI-X)
        Assert.Equal(0x4u, BinaryPrimitives.ReadUInt32LittleEndian(config[0x20..]));  // BAR4: 64-bit memory (the structures)
        Assert.NotEqual(0, BinaryPrimitives.ReadUInt16LittleEndian(config[6..]) & 0x10);

        // The list: MSI-X (table in BAR1), then common, ISR, device, notify, PCI cfg access.
        int at = config[0x34];
        Assert.Equal(0x40, at);
        Assert.Equal(0x11, config[at]);
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(config[(at + 2)..]));   // 5 vectors: config + 4 queues
        Assert.Equal(0x1u, BinaryPrimitives.ReadUInt32LittleEndian(config[(at + 4)..]));
        var seen = new List<(byte Type, byte Bar, uint Offset, uint Length)>();
        for (at = config[at + 1]; at != 0; at = config[at + 1])
        {
            Assert.Equal(0, at & 3);
            Assert.Equal(VirtioPciCapability.VendorCapabilityId, config[at]);
            seen.Add((config[at + 3], config[at + 4], BinaryPrimitives.ReadUInt32LittleEndian(config[(at + 8)..]), BinaryPrimitives.ReadUInt32LittleEndian(config[(at + 12)..])));
            if (config[at + 3] == 2) Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(config[(at + 16)..]));   // notify_off_multiplier
        }
        Assert.Equal([(1, 4, 0x0000u, 0x3cu), (3, 4, 0x1000u, 1u), (4, 4, 0x2000u, 0x48u), (2, 4, 0x3000u, 16u), (5, 0, 0u, 0u)], seen);
        Assert.Equal(VirtioPciLayout.BarSize, served.Server.ConfigSpace.GetBar(4)!.Size);
    }

    [Fact]
    public unsafe void Notify_writes_inside_bar4_take_the_doorbell_trap_path_and_io_fds_give_their_bar_offsets()
    {
        using var served = new Served();
        served.Write(VirtioPciLayout.NotifyOffset + 0, 2, 0);        // queue 0
        served.Write(VirtioPciLayout.NotifyOffset + 12, 2, 3);       // queue 3
        Assert.Equal(1ul, served.Pci.Doorbells!.TakeSignals(0));
        Assert.Equal(1ul, served.Pci.Doorbells!.TakeSignals(3));
        Assert.Equal(2, served.Server.Statistics.DoorbellWrites);
        Assert.Equal(0, served.Device.Counters.Notifications);         // signalled, not dispatched
        served.Write(0, 4, 1);                                          // device_feature_select: dispatched to the common configuration
        Assert.Equal(1ul, served.ReadBar(0, 4));

        var request = new byte[RegionIoFds.HeaderSize];
        RegionIoFds.EncodeRequest(request, (uint)RegionIoFds.ReplySize(4), Bar);
        var reply = served.Client.Request(VfioUserCommand.DeviceGetRegionIoFds, request);
        using var fds = reply.Fds;
        Assert.Equal(0, RegionIoFds.DecodeReply(reply.Payload, fds.Count, out _, out int count, out var entries));
        Assert.Equal(4, count);
        for (int q = 0; q < 4; q++)
            Assert.Equal(new RegionIoFdEntry(VirtioPciLayout.NotifyOffset + 4 * (ulong)q, 2, (uint)q, IoFdType.IoEventFd, 0, 0, 0, 0), entries[q]);
        ulong one = 1;
        Assert.Equal(8, (int)write(fds[2].Fd, &one, 8));   // what KVM does for an ioeventfd on queue 2's doorbell
        Assert.Equal(1ul, served.Pci.Doorbells!.TakeSignals(2));
    }

    [Fact]
    public void Inline_notify_writes_reach_the_device_on_the_server_thread_and_io_fds_offer_none()
    {
        using var served = new Served(VirtioNotifyDelivery.Inline);
        Assert.Null(served.Pci.Doorbells);
        served.Write(VirtioPciLayout.NotifyOffset + 0, 2, 0);        // queue 0
        served.Write(VirtioPciLayout.NotifyOffset + 12, 2, 3);       // queue 3
        Assert.Equal(2, served.Device.Counters.Notifications);        // dispatched, not signalled
        Assert.Equal(0, served.Server.Statistics.DoorbellWrites);     // the server knows no doorbell offsets
        Assert.Equal(0, served.Device.InternalErrors);

        var request = new byte[RegionIoFds.HeaderSize];
        RegionIoFds.EncodeRequest(request, (uint)RegionIoFds.ReplySize(4), Bar);
        var reply = served.Client.Request(VfioUserCommand.DeviceGetRegionIoFds, request);
        using var fds = reply.Fds;
        Assert.Equal(0, RegionIoFds.DecodeReply(reply.Payload, fds.Count, out _, out int count, out _));
        Assert.Equal(0, count);
    }

    [Fact]
    public void Vector_registers_read_back_what_the_table_can_map_and_no_vector_otherwise()
    {
        using var served = new Served();
        Assert.Equal(VirtioPciLayout.NoVector, served.ReadBar(ConfigMsixVector, 2));   // unmapped at reset
        Assert.Equal(VirtioPciLayout.NoVector, served.ReadBar(QueueMsixVector, 2));
        served.Write(ConfigMsixVector, 2, 4);
        Assert.Equal(4ul, served.ReadBar(ConfigMsixVector, 2));
        served.Write(ConfigMsixVector, 2, 5);                                           // past the 5-entry table
        Assert.Equal(VirtioPciLayout.NoVector, served.ReadBar(ConfigMsixVector, 2));
        served.Write(QueueMsixVector, 2, 1);
        Assert.Equal(1ul, served.ReadBar(QueueMsixVector, 2));
        served.Write(QueueMsixVector, 2, 0x7ff);
        Assert.Equal(VirtioPciLayout.NoVector, served.ReadBar(QueueMsixVector, 2));
    }

    [Fact]
    public void A_configuration_change_raises_its_msix_vector_nothing_for_no_vector_and_intx_without_msix()
    {
        using var served = new Served();
        int vector0 = NewEventFd(), vector1 = NewEventFd(), intx = NewEventFd();
        try
        {
            Assert.False(served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 2), [vector0, vector1]).Header.IsError);
            served.RaiseConfigurationChange(configVector: 1);
            Assert.Equal(0ul, ReadEventFd(vector0));
            Assert.Equal(1ul, ReadEventFd(vector1));

            // 4.1.5.1.2: an event mapped to VIRTIO_MSI_NO_VECTOR delivers nothing while MSI-X is on.
            long requested = served.Device.Counters.InterruptsRequested;
            served.RaiseConfigurationChange(configVector: VirtioPciLayout.NoVector);
            Assert.Equal(requested + 1, served.Device.Counters.InterruptsRequested);
            Assert.Equal(0ul, ReadEventFd(vector0));
            Assert.Equal(0ul, ReadEventFd(vector1));
            Assert.Equal(0, served.Server.Interrupts.Dropped);
            Assert.NotEqual(0ul, served.ReadBar(VirtioPciLayout.IsrOffset, 1) & 2);      // the ISR still says why

            // MSI-X disabled (count 0): INTx carries it, whatever the vector says.
            served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataNone | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 0));
            served.Client.Request(VfioUserCommand.DeviceSetIrqs, SetIrqs(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Intx, 0, 1), [intx]);
            served.RaiseConfigurationChange(configVector: 1);
            Assert.Equal(1ul, ReadEventFd(intx));
            Assert.Equal(0ul, ReadEventFd(vector1));
            Assert.Equal(0, served.Device.InternalErrors);
        }
        finally
        {
            close(vector0);
            close(vector1);
            close(intx);
        }
    }

    [Fact]
    public void Device_reset_from_the_client_resets_the_virtio_device_and_its_msix_table()
    {
        using var served = new Served();
        served.Write(DeviceStatus, 1, 3);
        served.Write(ConfigMsixVector, 2, 2);
        served.Client.Request(VfioUserCommand.RegionWrite, Write32(0x0c, (uint)VirtioPciFunction.MsixBar, 0));   // unmask vector 0
        Assert.False(served.Pci.Msix.IsMasked(0));
        Assert.False(served.Client.Request(VfioUserCommand.DeviceReset, []).Header.IsError);
        Assert.Equal(0ul, served.ReadBar(DeviceStatus, 1));
        Assert.Equal(VirtioPciLayout.NoVector, served.ReadBar(ConfigMsixVector, 2));
        Assert.True(served.Pci.Msix.IsMasked(0));
    }
}
