using System.Text;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.Fuzz;

/// <summary>
/// The starting corpus of the vfio-user-client target: a well-behaved server's replies, in the
/// order our client asks (message ids from 1: VERSION, DEVICE_GET_INFO, GET_REGION_INFO 0–7, then
/// the operations'), for sessions that attach BAR0 with region IO fds (an IOEVENTFD_SHADOW and a
/// datamatch IOEVENTFD), ring and read it, enable MSI-X with a DMA request from the server in
/// between, reset; and a reply with a wrong id. Pool fds: 0 the memfd, 1 and 2 eventfds.
/// </summary>
internal static class VfioUserClientSeeds
{
    private const ulong Bar0Size = 0x4000;

    public static List<(string, byte[])> Create() =>
    [
        ("connect-config", Session([Op(0, 0x00, 0, 2), Op(1, 0x04, 0x06, 1)], s => s.Read(11, RegionIndex.Config, 0, [0x36, 0x1b, 0x49, 0x53]).Write(12, RegionIndex.Config, 4, 2))),
        ("attach-trap", Session([Op(3, 0, 0, 0), Op(4, 0, 1, 0), Op(6, 0x00, 0x10, 2), Op(6, 0x00, 0x11, 1), Op(5, 0x10, 0, 2), Op(6, 0x20, 0, 2)],
            s => s.Empty(11, VfioUserCommand.DmaMap).IoFds(12).Read(13, RegionIndex.Bar0, 0x10, [1, 2, 3, 4]).Write(14, RegionIndex.Bar0, 0x20, 4))),
        // GuestShadow registers the notify doorbell with KVM (no exit would reach the bus): only the value doorbell traps.
        ("attach-guest-shadow", Session([Op(4, 0, 2, 0), Op(6, 0x00, 0x10, 2)], s => s.IoFds(11))),
        ("attach-none", Session([Op(4, 0, 0, 0), Op(5, 0x00, 0x10, 2), Op(6, 0x00, 0x10, 2)], s => s.Read(11, RegionIndex.Bar0, 0x1000, [0, 0, 0, 0]).Write(12, RegionIndex.Bar0, 0x1000, 4))),
        ("msix-reset", Session([Op(7, 1, 0, 0), Op(2, 0, 0, 0)], s => s.DmaRead(900).IrqInfo(11, 4).Empty(12, VfioUserCommand.DeviceSetIrqs).Empty(13, VfioUserCommand.DeviceReset))),
        ("wrong-id", Session([Op(0, 0, 0, 2)], s => s.Read(12, RegionIndex.Config, 0, [0, 0, 0, 0]))),
    ];

    private static byte[] Op(byte kind, byte a, byte b, byte c) => [kind, a, b, c];

    private static byte[] Session(byte[][] ops, Func<Server, Server> script)
    {
        var server = script(new Server().Connect());
        return [(byte)ops.Length, .. ops.SelectMany(o => o), .. server.Input.ToArray()];
    }

    /// <summary>Replies (and commands) a server sends, as <see cref="SocketInput"/> records.</summary>
    private sealed class Server
    {
        private readonly byte[] _buffer = new byte[8192];

        public SocketInputBuilder Input { get; } = new();

        public Server Connect()
        {
            var json = Encoding.UTF8.GetBytes("""{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576,"pgsizes":4096}}""");
            Reply(1, VfioUserCommand.Version, [0, 0, 0, 0, .. json, 0]);
            Reply(2, VfioUserCommand.DeviceGetInfo, _buffer.AsSpan(0, new DeviceInfo(DeviceInfoFlags.Pci | DeviceInfoFlags.Reset, 9, 5).EncodeReply(_buffer)).ToArray());
            for (uint index = 0; index <= RegionIndex.Config; index++)
            {
                ulong size = index == 0 ? Bar0Size : index == 4 ? 0x1000UL : index == RegionIndex.Config ? 256UL : 0UL;
                int n = RegionInfo.EncodeReply(_buffer, RegionInfo.WireSize, size == 0 ? 0 : RegionFlags.Read | RegionFlags.Write, index, size, 0, default);
                Reply((ushort)(3 + index), VfioUserCommand.DeviceGetRegionInfo, _buffer.AsSpan(0, n).ToArray());
            }
            return this;
        }

        public Server Read(ushort id, uint region, ulong offset, byte[] data) =>
            Reply(id, VfioUserCommand.RegionRead, _buffer.AsSpan(0, new RegionAccess(offset, region, (uint)data.Length).Encode(_buffer, data)).ToArray());

        public Server Write(ushort id, uint region, ulong offset, uint size) =>
            Reply(id, VfioUserCommand.RegionWrite, _buffer.AsSpan(0, new RegionAccess(offset, region, size).Encode(_buffer)).ToArray());

        public Server Empty(ushort id, VfioUserCommand command) => Reply(id, command, []);

        public Server IrqInfo(ushort id, uint vectors) =>
            Reply(id, VfioUserCommand.DeviceGetIrqInfo, _buffer.AsSpan(0, new IrqInfo(IrqInfoFlags.EventFd | IrqInfoFlags.NoResize, IrqIndex.Msix, vectors).EncodeReply(_buffer)).ToArray());

        /// <summary>BAR0's doorbells: a value doorbell at 0x1000 (shadow offset 0 of fd 0, eventfd 1) and a notify doorbell at 0x1100 (datamatch 1, eventfd 2).</summary>
        public Server IoFds(ushort id)
        {
            var (n, _) = RegionIoFds.EncodeReply(_buffer, uint.MaxValue, RegionIndex.Bar0,
            [
                new RegionIoFdEntry(0x1000, 4, 1, IoFdType.IoEventFdShadow, 0, 0, 0, 0),
                new RegionIoFdEntry(0x1100, 2, 2, IoFdType.IoEventFd, IoFdFlags.DataMatch, 0, 0, 1),
            ]);
            return Reply(id, VfioUserCommand.DeviceGetRegionIoFds, _buffer.AsSpan(0, n).ToArray(), fds: 3);
        }

        /// <summary>A DMA_READ from the server (this client serves none: it must answer ENOTSUP and go on waiting).</summary>
        public Server DmaRead(ushort id)
        {
            int n = new DmaAccess(0x1000, 8).EncodeRequest(_buffer, DmaMessageLayout.Qemu);
            return Send(MessageHeader.ForCommand(id, VfioUserCommand.DmaRead, n), _buffer.AsSpan(0, n).ToArray(), 0);
        }

        private Server Reply(ushort id, VfioUserCommand command, byte[] payload, int fds = 0) =>
            Send(MessageHeader.ForReply(MessageHeader.ForCommand(id, command, 0), payload.Length), payload, fds);

        private Server Send(MessageHeader header, byte[] payload, int fds)
        {
            var bytes = new byte[MessageHeader.Size + payload.Length];
            header.Write(bytes);
            payload.CopyTo(bytes, MessageHeader.Size);
            Input.Raw(bytes, fds);
            return this;
        }
    }
}
