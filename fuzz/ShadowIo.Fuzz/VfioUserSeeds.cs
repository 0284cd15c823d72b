using System.Text;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.Fuzz;

/// <summary>
/// The starting corpus of the vfio-user target: what QEMU 11.1's vfio-user-pci sends a server in
/// order (VERSION, DMA maps with and without the RAM memfd, device/region/IRQ info, config space,
/// SET_IRQS, reset), the doorbell traffic of a running guest (posted BAR writes, WRITE_MULTI), the
/// replies our own client decodes (region info with SPARSE_MMAP, region IO fds with
/// IOEVENTFD_SHADOW), and broken streams. Fd k of a record is pool[(k + rotation) % 3] of a memfd
/// and two eventfds (<see cref="VfioUserTarget"/>).
/// </summary>
internal static class VfioUserSeeds
{
    internal const int RotateToEventFds = 1;

    public static List<(string, byte[])> Create()
    {
        var seeds = new List<(string, byte[])>
        {
            ("handshake", Handshake().ToArray()),
            ("doorbells", Doorbells().ToArray()),
            ("interrupts", Interrupts().ToArray()),
            ("client-replies", ClientReplies().ToArray()),
            ("broken", Broken().ToArray()),
        };
        // One message split over several sends, and several messages in one send.
        var version = new Stream().Version().Bytes;
        var split = new SocketInputBuilder().Raw(version.AsSpan(0, 3)).Raw(version.AsSpan(3, 20)).Raw(version.AsSpan(23));
        seeds.Add(("framing", split.Raw([.. new Stream().Reset().Bytes, .. new Stream().Reset().Bytes]).ToArray()));
        return seeds;
    }

    private static SocketInputBuilder Handshake()
    {
        var b = new SocketInputBuilder();
        Add(b, new Stream().Version());
        Add(b, new Stream().Map(DmaMapFlags.Read | DmaMapFlags.Write, 0, 0, 0xc0000), fds: 1);
        Add(b, new Stream().Map(DmaMapFlags.Read, 0, 0xc0000, 0x20000));
        Add(b, new Stream().Map(DmaMapFlags.Read | DmaMapFlags.Write, 0x10_0000, 0x10_0000, 0xf0_0000), fds: 1);
        var s = new Stream().Command(VfioUserCommand.DeviceGetInfo, buffer => DeviceInfo.EncodeRequest(buffer));
        for (uint region = 0; region <= RegionIndex.Config; region++)
        {
            uint index = region;
            s.Command(VfioUserCommand.DeviceGetRegionInfo, buffer => RegionInfo.EncodeRequest(buffer, 32, index));
        }
        s.Command(VfioUserCommand.DeviceGetIrqInfo, buffer => IrqInfo.EncodeRequest(buffer, IrqIndex.Err));
        s.Command(VfioUserCommand.RegionRead, buffer => new RegionAccess(0, RegionIndex.Config, 256).Encode(buffer));
        s.Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(0x30, RegionIndex.Config, 4).Encode(buffer, [0x00, 0xf8, 0xff, 0xff]));
        Add(b, s);
        Add(b, new Stream().Command(VfioUserCommand.DeviceSetIrqs,
            buffer => new IrqSetRequest(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Err, 0, 1).Encode(buffer)), fds: 1, rotation: RotateToEventFds);
        Add(b, new Stream()
            .Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(0x04, RegionIndex.Config, 2).Encode(buffer, [0x06, 0x04]))
            .Reset()
            .Command(VfioUserCommand.DmaUnmap, buffer => new DmaUnmapRequest(0, 0xc0000, 0x20000).Encode(buffer)));
        return b;
    }

    private static SocketInputBuilder Doorbells()
    {
        var b = new SocketInputBuilder();
        var s = new Stream().Version();
        for (uint tail = 1; tail <= 4; tail++)
        {
            uint value = tail;
            s.Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(0x1008, RegionIndex.Bar0, 4).Encode(buffer, BitConverter.GetBytes(value)), noReply: true);
        }
        s.Command(VfioUserCommand.RegionRead, buffer => new RegionAccess(0x1c, RegionIndex.Bar0, 4).Encode(buffer));
        s.Command(VfioUserCommand.RegionWriteMulti, buffer => RegionWriteMulti.EncodeRequest(buffer,
            [new(0x1008, RegionIndex.Bar0, 4), new(0x100c, RegionIndex.Bar0, 4), new(0x28, RegionIndex.Bar0, 8)],
            [5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]), noReply: true);
        Add(b, s);
        return b;
    }

    private static SocketInputBuilder Interrupts()
    {
        var b = new SocketInputBuilder();
        Add(b, new Stream().Command(VfioUserCommand.DeviceGetIrqInfo, buffer => IrqInfo.EncodeRequest(buffer, IrqIndex.Msix)));
        // MSI-X enabled with no vectors (no fd), then two vectors' eventfds, a mask by bool, and the disable.
        Add(b, new Stream().Command(VfioUserCommand.DeviceSetIrqs,
            buffer => new IrqSetRequest(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 1).Encode(buffer)));
        Add(b, new Stream().Command(VfioUserCommand.DeviceSetIrqs,
            buffer => new IrqSetRequest(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 2).Encode(buffer)), fds: 2, rotation: RotateToEventFds);
        Add(b, new Stream()
            .Command(VfioUserCommand.DeviceSetIrqs, buffer => new IrqSetRequest(IrqSetFlags.DataBool | IrqSetFlags.ActionMask, IrqIndex.Msix, 0, 2).Encode(buffer, [1, 0]))
            .Command(VfioUserCommand.DeviceSetIrqs, buffer => new IrqSetRequest(IrqSetFlags.DataNone | IrqSetFlags.ActionUnmask, IrqIndex.Intx, 0, 1).Encode(buffer))
            .Command(VfioUserCommand.DeviceSetIrqs, buffer => new IrqSetRequest(IrqSetFlags.DataNone | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 0).Encode(buffer)));
        return b;
    }

    /// <summary>Replies our client receives, and the server-to-client DMA messages in QEMU's layout.</summary>
    private static SocketInputBuilder ClientReplies()
    {
        var b = new SocketInputBuilder();
        Add(b, new Stream().Reply(VfioUserCommand.DeviceGetRegionInfo, buffer =>
            RegionInfo.EncodeReply(buffer, 64, RegionFlags.Read | RegionFlags.Write | RegionFlags.Mmap, RegionIndex.Bar0, 0x4000, 0, [new SparseMmapArea(0x1000, 0x1000)])), fds: 1);
        Add(b, new Stream().Reply(VfioUserCommand.DeviceGetRegionIoFds, buffer => RegionIoFds.EncodeReply(buffer, 512, RegionIndex.Bar0,
        [
            new RegionIoFdEntry(0x1008, 4, 1, IoFdType.IoEventFdShadow, 0, 0, 8, 0),
            new RegionIoFdEntry(0x100c, 4, 2, IoFdType.IoEventFd, IoFdFlags.DataMatch, 0, 0, 1),
        ]).Length), fds: 3);
        Add(b, new Stream()
            .Reply(VfioUserCommand.DeviceGetInfo, buffer => new DeviceInfo(DeviceInfoFlags.Pci | DeviceInfoFlags.Reset, 9, 5).EncodeReply(buffer))
            .Reply(VfioUserCommand.DeviceGetIrqInfo, buffer => new IrqInfo(IrqInfoFlags.EventFd | IrqInfoFlags.NoResize, IrqIndex.Msix, 65).EncodeReply(buffer))
            .Command(VfioUserCommand.DmaRead, buffer => new DmaAccess(0x4_0000, 64).EncodeRequest(buffer, DmaMessageLayout.Qemu))
            .Command(VfioUserCommand.DmaWrite, buffer => new DmaAccess(0x4_0000, 4).EncodeRequest(buffer, DmaMessageLayout.Qemu, [1, 2, 3, 4])));
        return b;
    }

    private static SocketInputBuilder Broken()
    {
        var b = new SocketInputBuilder();
        // Oversized (past the target's 4 KiB transfer limit): drained and refused, the next one framed.
        Add(b, new Stream().Command(VfioUserCommand.RegionWrite, buffer => new RegionAccess(0, RegionIndex.Bar0, 4200).Encode(buffer, new byte[4200])));
        Add(b, new Stream().Raw(new MessageHeader(1, VfioUserCommand.Version, 20, (MessageFlags)0x42, 0), [0, 0, 0, 0]));
        Add(b, new Stream().Raw(new MessageHeader(2, (VfioUserCommand)99, 16, 0, 0), []));
        Add(b, new Stream().Command(VfioUserCommand.DeviceSetIrqs,
            buffer => new IrqSetRequest(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, 0, 31).Encode(buffer)), fds: 31);
        Add(b, new Stream().Command(VfioUserCommand.DmaMap, buffer => new DmaMapRequest(DmaMapFlags.Read, ulong.MaxValue, 0, 0x1000).Encode(buffer)), fds: 1);
        Add(b, new Stream().Raw(new MessageHeader(3, VfioUserCommand.DeviceReset, 8, 0, 0), []));
        return b;
    }

    internal static void Add(SocketInputBuilder builder, Stream stream, int fds = 0, int rotation = 0) => builder.Raw(stream.Bytes, fds, rotation);

    /// <summary>Whole vfio-user messages, back to back, numbered as QEMU numbers them.</summary>
    internal sealed class Stream
    {
        private static ushort s_id;
        private readonly List<byte> _bytes = [];
        private readonly byte[] _buffer = new byte[8192];

        public byte[] Bytes => [.. _bytes];

        public Stream Version()
        {
            var json = Encoding.UTF8.GetBytes("""{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576,"pgsizes":4096,"max_dma_maps":65535,"migration":{"pgsize":4096,"max_bitmap_size":268435456},"write_multiple":true}}""");
            byte[] payload = [0, 0, 0, 0, .. json, 0];
            return Raw(MessageHeader.ForCommand(s_id++, VfioUserCommand.Version, payload.Length), payload);
        }

        public Stream Map(DmaMapFlags flags, ulong offset, ulong address, ulong size) =>
            Command(VfioUserCommand.DmaMap, buffer => new DmaMapRequest(flags, offset, address, size).Encode(buffer));

        public Stream Reset() => Raw(MessageHeader.ForCommand(s_id++, VfioUserCommand.DeviceReset, 0), []);

        public Stream Command(VfioUserCommand command, Func<byte[], int> encode, bool noReply = false)
        {
            int n = encode(_buffer);
            return Raw(MessageHeader.ForCommand(s_id++, command, n, noReply), _buffer.AsSpan(0, n));
        }

        public Stream Reply(VfioUserCommand command, Func<byte[], int> encode)
        {
            int n = encode(_buffer);
            return Raw(MessageHeader.ForReply(MessageHeader.ForCommand(s_id++, command, 0), n), _buffer.AsSpan(0, n));
        }

        public Stream Raw(MessageHeader header, ReadOnlySpan<byte> payload)
        {
            var bytes = new byte[MessageHeader.Size];
            header.Write(bytes);
            _bytes.AddRange(bytes);
            _bytes.AddRange(payload);
            return this;
        }
    }
}
