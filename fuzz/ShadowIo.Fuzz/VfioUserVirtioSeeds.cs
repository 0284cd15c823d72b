using System.Buffers.Binary;
using ShadowIo.Devices.Virtio;
using ShadowIo.VfioUser.Protocol;
using Stream = ShadowIo.Fuzz.VfioUserSeeds.Stream;

namespace ShadowIo.Fuzz;

/// <summary>
/// The starting corpus of the vfio-user-virtio target: what Linux's virtio_pci and virtio_blk do
/// through QEMU's vfio-user-pci (VERSION, the RAM memfd mapped at IOVA 0, config space and its
/// vendor capabilities, the common configuration handshake of virtio 1.2 §3.1.1, queue setup
/// §4.1.5.1.3, MSI-X vectors, posted notify writes), with split rings and virtio-blk requests
/// already in client memory so the notify reaches the ring parser; plus a reset mid-session and a
/// hostile driver.
/// </summary>
internal static class VfioUserVirtioSeeds
{
    private const uint Bar = VirtioPciLayout.Bar;
    private const ulong DeviceFeatureSelect = 0x00, DeviceFeature = 0x04, DriverFeatureSelect = 0x08, DriverFeature = 0x0c;
    private const ulong ConfigMsixVector = 0x10, NumQueues = 0x12, DeviceStatus = 0x14, ConfigGeneration = 0x15;
    private const ulong QueueSelect = 0x16, QueueSize = 0x18, QueueMsixVector = 0x1a, QueueEnable = 0x1c, QueueNotifyOff = 0x1e;
    private const ulong QueueDesc = 0x20, QueueDriver = 0x28, QueueDevice = 0x30;
    private const ushort Next = 1, Write = 2, Indirect = 4;
    private const int Size = 16;

    private const ulong Linux = (ulong)(VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx | VirtioFeatures.RingIndirectDesc
        | VirtioFeatures.BlkSegMax | VirtioFeatures.BlkBlockSize | VirtioFeatures.BlkFlush | VirtioFeatures.BlkMultiQueue);

    /// <summary>Queue q's rings in client RAM (IOVA = memfd offset): descriptors, avail, used, 4 KiB each.</summary>
    private static ulong DescTable(int q) => 0x1_0000 + (ulong)q * 0x4000;
    private static ulong Avail(int q) => DescTable(q) + 0x1000;
    private static ulong Used(int q) => DescTable(q) + 0x2000;
    private const ulong Headers = 0x2_0000, Data = 0x3_0000, Statuses = 0x4_0000, IndirectTable = 0x5_0000;

    /// <summary>The IOVA window of the seeds that publish after DRIVER_OK (<see cref="Publish"/>), and where in the memfd its second image lies.</summary>
    private const ulong Window = VfioUserServerSession.RamSize / 2, Published = Window;

    public static List<(string, byte[])> Create() =>
    [
        ("write-read", WriteRead()),
        ("msix-config", MsixConfig()),
        ("reset-midway", ResetMidway()),
        ("two-queues", TwoQueues()),
        ("notify-after-ready", NotifyAfterReady()),
        ("hostile", Hostile()),
    ];

    /// <summary>The handshake, one queue, and four requests on it (write, read, GET_ID, an indirect FLUSH) behind one notify.</summary>
    private static byte[] WriteRead()
    {
        var b = Connect();
        Requests(b, 0);
        var s = Handshake(new Stream(), Linux);
        SetUpQueue(s, 0, vector: 1);
        BarWrite(s, DeviceStatus, 1, 0x0f);
        Notify(s, 0);
        BarRead(s, DeviceStatus, 1);
        Add(b, s);
        return b.ToArray();
    }

    /// <summary>MSI-X through SET_IRQS and the BAR1 table, the vector registers, ISR and device configuration reads, the notify IO fds.</summary>
    private static byte[] MsixConfig()
    {
        var b = Connect();
        Add(b, new Stream().Command(VfioUserCommand.DeviceGetIrqInfo, buffer => IrqInfo.EncodeRequest(buffer, IrqIndex.Msix)));
        Add(b, new Stream().Command(VfioUserCommand.DeviceSetIrqs,
            buffer => new IrqSetRequest(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 2).Encode(buffer)), fds: 2, rotation: VfioUserSeeds.RotateToEventFds);
        var s = new Stream();
        // Table entry 0 and 1: address, data, unmasked (PCI 3.0 §6.8.2.9); then the PBA.
        for (uint e = 0; e < 2; e++)
        {
            uint entry = e * 16;
            s.Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(entry, VirtioPciFunction.MsixBar, 16).Encode(buffer,
                [0x00, 0x00, 0xe0, 0xfe, 0, 0, 0, 0, (byte)(0x20 + entry / 16), 0, 0, 0, 0, 0, 0, 0]));
        }
        s.Command(VfioUserCommand.RegionRead, buffer => new RegionAccess(0x800, VirtioPciFunction.MsixBar, 8).Encode(buffer));
        // The MSI-X capability's enable bit (message control at 0x42).
        s.Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(0x42, RegionIndex.Config, 2).Encode(buffer, [0x04, 0x80]));
        Handshake(s, Linux);
        BarWrite(s, ConfigMsixVector, 2, 0);
        BarRead(s, ConfigMsixVector, 2);
        BarRead(s, NumQueues, 2);
        BarRead(s, ConfigGeneration, 1);
        s.Command(VfioUserCommand.RegionRead, buffer => new RegionAccess(VirtioPciLayout.DeviceConfigOffset, Bar, 0x48).Encode(buffer));
        BarRead(s, VirtioPciLayout.DeviceConfigOffset + 0x14, 4);   // blk_size
        SetUpQueue(s, 0, vector: 1);
        BarRead(s, QueueNotifyOff, 2);
        BarWrite(s, DeviceStatus, 1, 0x0f);
        BarRead(s, VirtioPciLayout.IsrOffset, 1);
        s.Command(VfioUserCommand.DeviceGetRegionIoFds, buffer => RegionIoFds.EncodeRequest(buffer, (uint)RegionIoFds.ReplySize(4), Bar));
        Add(b, s);
        Requests(b, 0);
        Add(b, Notify(new Stream(), 0));
        return b.ToArray();
    }

    /// <summary>Requests published, then DEVICE_RESET before the device ran, a second handshake (device_status 0 first) and a request on queue 1.</summary>
    private static byte[] ResetMidway()
    {
        var b = Connect();
        Requests(b, 0);
        Requests(b, 1);
        var s = Handshake(new Stream(), Linux);
        SetUpQueue(s, 0, vector: 1);
        BarWrite(s, DeviceStatus, 1, 0x0f);
        Notify(s, 0);
        s.Reset();
        BarWrite(s, DeviceStatus, 1, 0);
        Handshake(s, Linux);
        SetUpQueue(s, 1, vector: 2);
        BarWrite(s, DeviceStatus, 1, 0x0f);
        Notify(s, 1);
        Add(b, s);
        return b.ToArray();
    }

    /// <summary>Two queues, their requests published after DRIVER_OK and notified in one WRITE_MULTI as QEMU coalesces posted writes.</summary>
    private static byte[] TwoQueues()
    {
        var b = Connect(Window);
        Requests(b, 0, Published);
        Requests(b, 2, Published);
        var s = Handshake(new Stream(), Linux);
        SetUpQueue(s, 0, vector: 1);
        SetUpQueue(s, 2, vector: 2);
        BarWrite(s, DeviceStatus, 1, 0x0f);
        Publish(b, s);
        Add(b, new Stream().Command(VfioUserCommand.RegionWriteMulti, buffer => RegionWriteMulti.EncodeRequest(buffer,
            [new(VirtioPciLayout.NotifyOffset, Bar, 2), new(VirtioPciLayout.NotifyOffset + 8, Bar, 2)], [0, 0, 2, 0]), noReply: true));
        return b.ToArray();
    }

    /// <summary>
    /// Linux's order (virtio_device_ready, then requests, then virtqueue_notify): the rings are empty
    /// at DRIVER_OK, the four requests appear afterwards, and only the notify write gets them served.
    /// </summary>
    private static byte[] NotifyAfterReady()
    {
        var b = Connect(Window);
        Requests(b, 0, Published);
        var s = Handshake(new Stream(), Linux);
        SetUpQueue(s, 0, vector: 1);
        BarWrite(s, DeviceStatus, 1, 0x0f);
        BarRead(s, DeviceStatus, 1);
        Publish(b, s);
        Add(b, Notify(new Stream(), 0));
        return b.ToArray();
    }

    /// <summary>
    /// The session's RAM records all land before the server runs, so "the driver wrote the rings
    /// after DRIVER_OK" is played by the mapping instead: IOVA [0, Window) first shows memfd offset 0
    /// (zeros: empty rings), then is unmapped and mapped again onto the image at
    /// <see cref="Published"/>, which holds the requests. The device reads the rings through the map
    /// at every access, so what it sees after the remap is what a driver published meanwhile.
    /// </summary>
    private static void Publish(SocketInputBuilder b, Stream s)
    {
        s.Command(VfioUserCommand.DmaUnmap, buffer => new DmaUnmapRequest(0, 0, Window).Encode(buffer));
        Add(b, s);
        Add(b, new Stream().Map(DmaMapFlags.Read | DmaMapFlags.Write, Published, 0, Window), fds: 1);
    }

    /// <summary>
    /// A driver that breaks the rules: a queue enabled before FEATURES_OK, a size not a power of
    /// two, rings past the mapped RAM (DEVICE_NEEDS_RESET), unknown feature bits, notify writes for
    /// queues that do not exist and of the wrong width, accesses across the structures' ends; then,
    /// reset and set up again, requests past the disk's end (they fail, §5.2.6: VIRTIO_BLK_S_IOERR)
    /// and the RAM unmapped under the enabled queue before its notify (DEVICE_NEEDS_RESET again).
    /// </summary>
    private static byte[] Hostile()
    {
        var b = Connect();
        Requests(b, 0, ioSector: 1UL << 40);
        var s = new Stream();
        BarWrite(s, DeviceStatus, 1, 3);
        BarWrite(s, QueueEnable, 2, 1);
        BarWrite(s, DriverFeatureSelect, 4, 7);
        BarWrite(s, DriverFeature, 4, 0xffff_ffff);
        Handshake(s, ulong.MaxValue);
        BarRead(s, DeviceStatus, 1);
        Handshake(s, Linux);
        BarWrite(s, QueueSelect, 2, 0);
        BarWrite(s, QueueSize, 2, 17);
        BarWrite(s, QueueDesc, 4, 0xfff0_0000);
        BarWrite(s, QueueDesc + 4, 4, 0xffff_ffff);
        BarWrite(s, QueueEnable, 2, 1);
        BarWrite(s, QueueSelect, 2, 9);
        BarRead(s, QueueSize, 2);
        BarWrite(s, QueueEnable, 2, 1);
        SetUpQueue(s, 1, vector: 0x7ff);
        BarWrite(s, DeviceStatus, 1, 0x0f);
        Notify(s, 7);
        BarWrite(s, VirtioPciLayout.NotifyOffset + 2, 2, 0);
        BarWrite(s, VirtioPciLayout.NotifyOffset + 4, 4, 1);
        s.Command(VfioUserCommand.RegionRead, buffer => new RegionAccess(QueueDevice, Bar, 16).Encode(buffer));
        s.Command(VfioUserCommand.RegionRead, buffer => new RegionAccess(VirtioPciLayout.DeviceConfigOffset + 0x40, Bar, 16).Encode(buffer));
        s.Command(VfioUserCommand.RegionRead, buffer => new RegionAccess(VirtioPciLayout.BarSize - 4, Bar, 8).Encode(buffer));
        s.Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(VirtioPciLayout.IsrOffset, Bar, 4).Encode(buffer, [0xff, 0xff, 0xff, 0xff]));
        // The handshake opens with the driver's reset, the only way out of DEVICE_NEEDS_RESET (§2.1.2);
        // DRIVER_OK then serves the waiting requests, the write and read past the end failing.
        Handshake(s, Linux);
        SetUpQueue(s, 0, vector: 1);
        BarWrite(s, DeviceStatus, 1, 0x0f);
        s.Command(VfioUserCommand.DmaUnmap, buffer => new DmaUnmapRequest(0, 0, VfioUserServerSession.RamSize).Encode(buffer));
        Notify(s, 0);
        Notify(s, 1);
        Add(b, s);
        return b.ToArray();
    }

    /// <summary>VERSION, the RAM memfd (its first <paramref name="size"/> bytes) mapped at IOVA 0, device and region info, the config space read (capabilities included).</summary>
    private static SocketInputBuilder Connect(ulong size = VfioUserServerSession.RamSize)
    {
        var b = new SocketInputBuilder();
        Add(b, new Stream().Version());
        Add(b, new Stream().Map(DmaMapFlags.Read | DmaMapFlags.Write, 0, 0, size), fds: 1);
        var s = new Stream().Command(VfioUserCommand.DeviceGetInfo, buffer => DeviceInfo.EncodeRequest(buffer));
        foreach (uint region in new uint[] { VirtioPciFunction.MsixBar, Bar, RegionIndex.Config })
            s.Command(VfioUserCommand.DeviceGetRegionInfo, buffer => RegionInfo.EncodeRequest(buffer, 32, region));
        s.Command(VfioUserCommand.RegionRead, buffer => new RegionAccess(0, RegionIndex.Config, 256).Encode(buffer));
        s.Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(0x04, RegionIndex.Config, 2).Encode(buffer, [0x06, 0x04]));
        Add(b, s);
        return b;
    }

    /// <summary>§3.1.1 up to FEATURES_OK: reset, ACKNOWLEDGE, DRIVER, both feature words read and written, FEATURES_OK read back.</summary>
    private static Stream Handshake(Stream s, ulong features)
    {
        BarWrite(s, DeviceStatus, 1, 0);
        BarWrite(s, DeviceStatus, 1, 1);
        BarWrite(s, DeviceStatus, 1, 3);
        for (uint word = 0; word < 2; word++)
        {
            BarWrite(s, DeviceFeatureSelect, 4, word);
            BarRead(s, DeviceFeature, 4);
            BarWrite(s, DriverFeatureSelect, 4, word);
            BarWrite(s, DriverFeature, 4, (uint)(features >> (int)(32 * word)));
        }
        BarWrite(s, DeviceStatus, 1, 0x0b);
        return BarRead(s, DeviceStatus, 1);
    }

    /// <summary>§4.1.5.1.3: select, read the maximum, size 16, vector, the three ring addresses (two 32-bit halves each, as Linux writes them), enable.</summary>
    private static void SetUpQueue(Stream s, int q, ushort vector)
    {
        BarWrite(s, QueueSelect, 2, (ulong)q);
        BarRead(s, QueueSize, 2);
        BarWrite(s, QueueSize, 2, Size);
        BarWrite(s, QueueMsixVector, 2, vector);
        BarRead(s, QueueMsixVector, 2);
        foreach (var (register, address) in new[] { (QueueDesc, DescTable(q)), (QueueDriver, Avail(q)), (QueueDevice, Used(q)) })
        {
            BarWrite(s, register, 4, (uint)address);
            BarWrite(s, register + 4, 4, address >> 32);
        }
        BarWrite(s, QueueEnable, 2, 1);
    }

    /// <summary>
    /// Queue q's descriptor table and avail ring in client RAM: a WRITE of one sector, a READ of it,
    /// GET_ID, and a FLUSH through an indirect table (virtio 1.2 §2.7.5.3, §5.2.6); avail idx 4.
    /// Written at <paramref name="image"/> + IOVA in the memfd; the write and read at <paramref name="ioSector"/> (default 8 + q).
    /// </summary>
    private static void Requests(SocketInputBuilder b, int q, ulong image = 0, ulong? ioSector = null)
    {
        void RamWrite(ulong iova, byte[] bytes) => b.RamWrite(0, (int)(image + iova), bytes);
        ulong header = Headers + (ulong)q * 0x100, data = Data + (ulong)q * 0x1000, status = Statuses + (ulong)q * 0x10, indirect = IndirectTable + (ulong)q * 0x100;
        var desc = new byte[16 * Size];
        void Desc(int i, ulong address, uint length, ushort flags, ushort next)
        {
            var d = desc.AsSpan(16 * i);
            BinaryPrimitives.WriteUInt64LittleEndian(d, address);
            BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
            BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
            BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
        }
        Desc(0, header, 16, Next, 1);
        Desc(1, data, 512, Next, 2);
        Desc(2, status, 1, Write, 0);
        Desc(3, header + 0x10, 16, Next, 4);
        Desc(4, data + 0x200, 512, (ushort)(Write | Next), 5);
        Desc(5, status + 1, 1, Write, 0);
        Desc(6, header + 0x20, 16, Next, 7);
        Desc(7, data + 0x400, 20, (ushort)(Write | Next), 8);
        Desc(8, status + 2, 1, Write, 0);
        Desc(9, indirect, 32, Indirect, 0);
        RamWrite(DescTable(q), desc);

        var table = new byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(table, header + 0x30);
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(8), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(table.AsSpan(12), Next);
        BinaryPrimitives.WriteUInt16LittleEndian(table.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(table.AsSpan(16), status + 3);
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(24), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(table.AsSpan(28), Write);
        RamWrite(indirect, table);

        // virtio_blk_outhdr: type (IN 0, OUT 1, FLUSH 4, GET_ID 8), reserved, sector.
        var headers = new byte[0x40];
        uint[] types = [1, 0, 8, 4];
        for (int i = 0; i < types.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(headers.AsSpan(16 * i), types[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(headers.AsSpan(16 * i + 8), i < 2 ? ioSector ?? 8UL + (ulong)q : 0);
        }
        RamWrite(header, headers);
        var sector = new byte[512];
        for (int i = 0; i < sector.Length; i++) sector[i] = (byte)(i * 7 + q);
        RamWrite(data, sector);
        RamWrite(status, [0xff, 0xff, 0xff, 0xff]);

        // avail: flags 0, idx 4, ring heads 0 3 6 9; used_event 0 after the ring.
        var avail = new byte[4 + 2 * Size + 2];
        BinaryPrimitives.WriteUInt16LittleEndian(avail.AsSpan(2), 4);
        ushort[] heads = [0, 3, 6, 9];
        for (int i = 0; i < heads.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(avail.AsSpan(4 + 2 * i), heads[i]);
        RamWrite(Avail(q), avail);
    }

    /// <summary>The notify write for queue q (§4.1.4.4: queue_notify_off × multiplier; the value is the queue index), posted as QEMU posts BAR writes.</summary>
    private static Stream Notify(Stream s, int q) =>
        s.Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(VirtioPciLayout.NotifyOffset + (ulong)(q * VirtioPciLayout.NotifyOffMultiplier), Bar, 2)
            .Encode(buffer, [(byte)q, 0]), noReply: true);

    private static Stream BarWrite(Stream s, ulong offset, int size, ulong value)
    {
        var bytes = new byte[size];
        for (int i = 0; i < size; i++) bytes[i] = (byte)(value >> (8 * i));
        return s.Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(offset, Bar, (uint)size).Encode(buffer, bytes));
    }

    private static Stream BarRead(Stream s, ulong offset, int size) =>
        s.Command(VfioUserCommand.RegionRead, buffer => new RegionAccess(offset, Bar, (uint)size).Encode(buffer));

    private static void Add(SocketInputBuilder b, Stream s, int fds = 0, int rotation = 0) => VfioUserSeeds.Add(b, s, fds, rotation);
}
