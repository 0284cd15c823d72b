using Xunit;
using System.Buffers.Binary;
using ShadowIo.Binding;
using ShadowIo.Native;
using ShadowIo.Testing;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Client;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.VfioUser.Tests.Client;

/// <summary>
/// The server is hostile input to the client: replies that break the protocol, and region IO fds
/// that are not what they claim, end in <see cref="VfioUserException"/> during setup, leave no fd
/// of theirs open and nothing on the bus; on the MMIO path a failed access is all ones, never an exception.
/// </summary>
public sealed class HostileServerTests
{
    private const ulong BarSize = 0x4000;

    [Fact]
    public void A_reply_with_another_message_id_breaks_the_link()
    {
        using var server = new ScriptedServer { IdOffset = 1 };
        var e = Assert.Throws<VfioUserException>(() => VfioUserClient.Open(server.ClientChannel));
        Assert.Equal(Errno.EPROTO, e.Errno);
        Assert.Contains("Version: a reply to message 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_reply_carries_the_servers_errno()
    {
        using var server = new ScriptedServer { FailDmaMap = Errno.EEXIST };
        using var client = VfioUserClient.Open(server.ClientChannel);
        using var guest = TestGuest.Create();
        var e = Assert.Throws<VfioUserException>(() => client.MapGuestMemory(guest.Vm));
        Assert.Equal(Errno.EEXIST, e.Errno);
    }

    [Fact]
    public void A_device_that_is_not_pci_is_refused()
    {
        using var server = new ScriptedServer { DeviceFlags = DeviceInfoFlags.Reset };
        var e = Assert.Throws<VfioUserException>(() => VfioUserClient.Open(server.ClientChannel));
        Assert.Contains("not a PCI device", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> HostileIoFds =>
    [
        "memfd-as-eventfd", "eventfd-as-shadow", "shadow-too-small", "outside-region", "same-offset-twice",
        "eventfd-shared", "unaligned-shadow", "two-shadow-fds", "datamatch-too-wide",
    ];

    [Theory]
    [MemberData(nameof(HostileIoFds))]
    public void Hostile_region_io_fds_are_refused_and_their_fds_closed(string kind)
    {
        Assert.SkipUnless(ShadowIo.Kvm.KvmSystem.IsPresent(), "/dev/kvm is absent: the client binds doorbells to a real VM.");
        using var server = new ScriptedServer { IoFds = kind };
        using var client = VfioUserClient.Open(server.ClientChannel);
        using var guest = TestGuest.Create();
        var bus = new MmioBus();
        var e = Assert.Throws<VfioUserException>(() => client.AttachBar(0, 0xE000_0000, bus, guest.Vm, DoorbellBindingMode.Trap));
        Assert.Equal(Errno.EPROTO, e.Errno);
        Assert.Empty(bus.Ranges.ToArray());
        // The client closed every memfd it received: the server's copies are the last ones open.
        Assert.All(server.SentFiles, file => Assert.Equal(1, OpenDescriptorsOf(file)));
    }

    [Fact]
    public void A_failing_mmio_read_is_all_ones_and_counted()
    {
        Assert.SkipUnless(ShadowIo.Kvm.KvmSystem.IsPresent(), "/dev/kvm is absent.");
        using var server = new ScriptedServer { ShortReadReply = true };
        using var client = VfioUserClient.Open(server.ClientChannel, log: _ => { });
        using var guest = TestGuest.Create();
        var bar = client.AttachBar(0, 0xE000_0000, new MmioBus(), guest.Vm, null);
        Assert.Equal(0xffff_ffffUL, bar.ReadMmio(0x10, 4));
        Assert.Equal(1, client.FailedAccesses);
        // The link is broken now: later accesses fail the same way, without waiting.
        bar.WriteMmio(0x10, 4, 1);
        Assert.Equal(2, client.FailedAccesses);
    }

    /// <summary>How many descriptors of this process refer to <paramref name="file"/> (by /proc/self/fd link target).</summary>
    private static int OpenDescriptorsOf(string file) =>
        Directory.GetFiles("/proc/self/fd").Count(fd =>
        {
            try { return new FileInfo(fd).LinkTarget == file; }
            catch (IOException) { return false; }
        });

    /// <summary>A server on the other end of a socketpair answering from a script, on its own thread.</summary>
    private sealed class ScriptedServer : IDisposable
    {
        private readonly VfioUserChannel _server;
        private readonly Thread _thread;
        private readonly List<FileDescriptorHandle> _keep = [];

        public ScriptedServer()
        {
            (_server, ClientChannel) = VfioUserChannel.CreatePair(maxSendFds: 253);
            _thread = new Thread(Loop) { IsBackground = true };
            _thread.Start();
        }

        public VfioUserChannel ClientChannel { get; }
        public ushort IdOffset { get; init; }
        public int FailDmaMap { get; init; }
        public DeviceInfoFlags DeviceFlags { get; init; } = DeviceInfoFlags.Pci;
        public string? IoFds { get; init; }
        public bool ShortReadReply { get; init; }

        /// <summary>The /proc link targets of the memfds sent with GET_REGION_IO_FDS.</summary>
        public List<string> SentFiles { get; } = [];

        private void Loop()
        {
            using var message = new ReceivedMessage(new ProtocolLimits(ProtocolLimits.DefaultMaxDataTransferSize, 16));
            var reply = new byte[4096];
            while (_server.Receive(message) == ReceiveStatus.Message)
            {
                var header = message.Header;
                int length = 0;
                int[] fds = [];
                int error = 0;
                switch (header.Command)
                {
                    case VfioUserCommand.Version:
                        length = new VersionMessage(0, 0, default).Encode(reply);
                        break;
                    case VfioUserCommand.DmaMap:
                        error = FailDmaMap;
                        break;
                    case VfioUserCommand.DeviceGetInfo:
                        length = new DeviceInfo(DeviceFlags, RegionIndex.Count, IrqIndex.Count).EncodeReply(reply);
                        break;
                    case VfioUserCommand.DeviceGetRegionInfo:
                        uint index = BinaryPrimitives.ReadUInt32LittleEndian(message.Payload[8..]);
                        ulong size = index == 0 ? BarSize : index == RegionIndex.Config ? 256UL : 0;
                        length = RegionInfo.EncodeReply(reply, RegionInfo.WireSize, size == 0 ? 0 : RegionFlags.Read | RegionFlags.Write, index, size, 0, default);
                        break;
                    case VfioUserCommand.DeviceGetRegionIoFds:
                        (length, fds) = HostileIoFdsReply(reply);
                        break;
                    case VfioUserCommand.RegionRead:
                        // Echo the request's header without the data: the count does not match.
                        message.Payload[..RegionAccess.HeaderSize].CopyTo(reply);
                        length = ShortReadReply ? RegionAccess.HeaderSize : RegionAccess.HeaderSize + (int)BinaryPrimitives.ReadUInt32LittleEndian(message.Payload[12..]);
                        break;
                    default:
                        error = Errno.ENOTSUP;
                        break;
                }
                var id = (ushort)(header.MessageId + IdOffset);
                var echoed = header with { MessageId = id };
                bool sent = error != 0
                    ? _server.Send(MessageHeader.ForError(echoed, error), default)
                    : _server.Send(MessageHeader.ForReply(echoed, length), reply.AsSpan(0, length), fds);
                if (!sent) return;
            }
        }

        private (int Length, int[] Fds) HostileIoFdsReply(byte[] reply)
        {
            // Unique names: the memfds are found again by their /proc link target.
            var shadow = Memfd.Create($"hostile-shadow-{Guid.NewGuid():N}", IoFds == "shadow-too-small" ? 8UL : 4096UL);
            var second = Memfd.Create($"hostile-shadow-{Guid.NewGuid():N}", 4096);
            var eventFd = EventFd.Create("hostile doorbell");
            var other = EventFd.Create("hostile doorbell 2");
            _keep.AddRange([shadow, second, eventFd, other]);
            // fd 0 shadow, 1 eventfd, 2 second eventfd, 3 a second memfd.
            int[] fds = [shadow.Fd, eventFd.Fd, other.Fd, second.Fd];
            // Eventfds all share one anonymous inode; the memfds can be told apart.
            foreach (int fd in (int[])[shadow.Fd, second.Fd]) SentFiles.Add(new FileInfo($"/proc/self/fd/{fd}").LinkTarget!);
            var shadowEntry = new RegionIoFdEntry(0x1000, 4, 1, IoFdType.IoEventFdShadow, 0, 0, 0x40, 0);
            var kick = new RegionIoFdEntry(0x2000, 2, 2, IoFdType.IoEventFd, IoFdFlags.DataMatch, 0, 0, 7);
            RegionIoFdEntry[] entries = IoFds switch
            {
                "memfd-as-eventfd" => [shadowEntry with { FdIndex = 3 }],
                "eventfd-as-shadow" => [shadowEntry with { ShadowFdIndex = 2 }],
                "shadow-too-small" => [shadowEntry],
                "outside-region" => [shadowEntry, kick with { Offset = BarSize - 1 }],
                "same-offset-twice" => [shadowEntry, kick with { Offset = 0x1000, Size = 4 }],
                "eventfd-shared" => [shadowEntry, kick with { FdIndex = 1 }],
                "unaligned-shadow" => [shadowEntry with { ShadowOffset = 0x42 }],
                "two-shadow-fds" => [shadowEntry, shadowEntry with { Offset = 0x1004, FdIndex = 2, ShadowFdIndex = 3 }],
                "datamatch-too-wide" => [shadowEntry, kick with { DataMatch = 0x1_0007 }],
                _ => throw new InvalidOperationException($"no script {IoFds}"),
            };
            var (length, _) = RegionIoFds.EncodeReply(reply, uint.MaxValue, 0, entries);
            return (length, fds);
        }

        public void Dispose()
        {
            ClientChannel.Dispose();
            _server.Dispose();
            _thread.Join();
            foreach (var fd in _keep) fd.Dispose();
        }
    }
}
