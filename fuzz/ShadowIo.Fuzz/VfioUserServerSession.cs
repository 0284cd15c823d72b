using System.Buffers.Binary;
using ShadowIo.Devices.Nvme;
using ShadowIo.Fuzz.Nvme;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using ShadowIo.VfioUser.Server;
using static Tmds.Linux.LibC;
using ShadowIo.Devices.Storage;
using ShadowIo.Devices.Virtio;

namespace ShadowIo.Fuzz;

/// <summary>
/// A client's stream replayed into a <see cref="VfioUserServer"/>: the second half of the
/// vfio-user target (the sample NVMe controller as the <c>linux</c> verb serves it: 64-bit BAR0
/// with trapped I/O doorbells, MSI-X table in BAR4), and the whole of the vfio-user-virtio target
/// (the virtio-blk device's <see cref="VirtioPciFunction"/>). Client memory comes from the memfd
/// the peer maps.
/// </summary>
/// <remarks>
/// <para>The whole stream goes into the socket first, then the server loop runs on the calling
/// thread to the end of the stream (no thread, no timing: stable traces for AFL).</para>
/// <para>Checked: no exception leaves the loop; the replies are exactly one per framed command
/// that asked for one (not NO_REPLY, not itself a reply), in order, each echoing its command's
/// msg_id and cmd, and an error reply is the bare header with an errno the protocol uses; no reply
/// to a posted message; the device never failed an access and caught no internal error. The caller checks that no fd outlives the session.</para>
/// </remarks>
internal static unsafe class VfioUserServerSession
{
    /// <summary>Which device the server serves.</summary>
    internal enum ServedDevice
    {
        Nvme,
        VirtioBlk,
    }

    /// <summary>Client memory the pool's memfd offers to DMA_MAP (maps inside it succeed).</summary>
    public const int RamSize = 1 << 20;

    private static readonly PciIdentity Identity = new(0x1b36, 0x5349, 0x010802, RevisionId: 1);
    private static readonly int[] ReplyErrnos = [EINVAL, E2BIG, ENOTSUP, EEXIST, ENOENT, ENOSPC, ENOMEM];
    private static MemoryMapping? s_ram;

    /// <summary>What the virtio-blk device did in the last session (null when it served NVMe).</summary>
    public static VirtioServedSummary? LastVirtio { get; private set; }

    /// <summary>Counts from the last session.</summary>
    public static (long Messages, long ErrorReplies, long DmaMaps, long Replies) LastCounts { get; private set; }

    public static void Run(ReadOnlySpan<byte> input, Func<int, ReadOnlySpan<byte>, ReadOnlySpan<int>, bool> send, int[] eventFds, ServedDevice device)
    {
        s_ram ??= MemoryMapping.CreateMemfd("fuzz vfio-user client RAM", RamSize);
        s_ram.Span.Clear();
        var memory = new GuestMemory();
        using IServed served = device == ServedDevice.Nvme ? new ServedNvme(memory) : new ServedVirtioBlk(memory);
        var function = served.Function;
        var server = new VfioUserServer(function, memory);
        served.Connect(server);
        var (serverEnd, peerEnd) = VfioUserChannel.CreatePair(maxSendFds: 253);
        var sent = new List<byte>();
        using (peerEnd)
        {
            // Room for the whole input and every reply (a BAR read answers at most 16 KiB): the server never blocks on a send.
            VfioUserTarget.GrowBuffers(peerEnd.Fd);
            VfioUserTarget.GrowBuffers(serverEnd.Fd);
            try
            {
                int[] pool = [s_ram.Fd, eventFds[0], eventFds[1]];
                Span<int> slots = stackalloc int[32];
                foreach (var record in new SocketInput(input))
                {
                    if (record.IsRamWrite)
                    {
                        int offset = record.RamOffset % RamSize;
                        int n = Math.Min(record.Data.Length, RamSize - offset);
                        record.Data[..n].CopyTo(s_ram.Span[offset..]);
                        continue;
                    }
                    var fds = slots[..record.FdCount];
                    for (int k = 0; k < fds.Length; k++)
                        fds[k] = pool[(k + record.FdRotation) % pool.Length];
                    if (!send(peerEnd.Fd, record.Data, fds))
                        break;
                    sent.AddRange(record.Data);
                }
                shutdown(peerEnd.Fd, SHUT_WR);
                try
                {
                    server.ServeOnCallingThread(serverEnd);
                    served.AfterServe();
                }
                catch (Exception e)
                {
                    throw new FuzzInvariantException("an exception escaped the vfio-user server's loop", e);
                }
                var stats = server.Statistics;
                if (stats.DeviceFailures != 0)
                    throw new FuzzInvariantException($"the device failed {stats.DeviceFailures} access(es)");
                served.Check();
            }
            finally
            {
                // Closes the server's end, so the peer reads every reply and then the end of the stream.
                server.Dispose();
            }
            long replies = CheckReplies(CollectionsMarshalBytes(sent), peerEnd);
            LastCounts = (server.Statistics.Messages, server.Statistics.ErrorReplies, server.Statistics.DmaMaps, replies);
            LastVirtio = served is ServedVirtioBlk virtio ? virtio.Summary() : null;
        }
    }

    /// <summary>The device behind the server, built fresh for each session.</summary>
    private interface IServed : IDisposable
    {
        PciFunction Function { get; }

        /// <summary>Routes the device's interrupts to the server's.</summary>
        void Connect(VfioUserServer server);

        /// <summary>What the device thread would do once the stream is served: look at the doorbells and rings.</summary>
        void AfterServe();

        /// <summary>Throws if the device caught an internal error (a bug, never the guest's fault).</summary>
        void Check();
    }

    /// <summary>The sample NVMe controller as the <c>linux</c> verb serves it: 64-bit BAR0 with trapped I/O doorbells, MSI-X table in BAR4.</summary>
    private sealed class ServedNvme : IServed
    {
        private readonly MemoryBlockStorage _storage = new(1 << 20);
        private readonly NvmeController _controller;
        private readonly DoorbellSet _doorbells;

        public ServedNvme(GuestMemory memory)
        {
            _controller = new NvmeController(memory, _storage);
            _doorbells = DoorbellSet.Create(NvmeController.DoorbellTable, static e => e.Element != 0);
            _controller.DoorbellSource = _doorbells.Shadow;
            var msix = new MsixTable(NvmeRegisters.QueueCount);
            Function = new PciFunction(Identity,
                [new PciBar(0, PciBarKind.Memory64, NvmeRegisters.BlockSize, _controller, _doorbells), new PciBar(4, PciBarKind.Memory32, msix.BarSize, msix)],
                () =>
                {
                    _controller.WriteMmio(NvmeRegisters.CcOffset, 4, 0);
                    _controller.Registers.ResetRegisters();
                },
                PciMsix.InBar(4, msix));
        }

        public PciFunction Function { get; }

        public void Connect(VfioUserServer server) => _controller.InterruptRequested = server.Interrupts.Raise;

        public void AfterServe() => _controller.Poll();

        public void Check()
        {
            if (_controller.Counters.InternalErrors != 0)
                throw new FuzzInvariantException($"the controller caught an internal error: {_controller.LastInternalError}");
        }

        public void Dispose()
        {
            _doorbells.Dispose();
            _controller.Dispose();
            _storage.Dispose();
        }
    }

    /// <summary>
    /// The virtio-blk device as <c>VirtioBlkVfioUserHost</c> serves it: <see cref="VirtioPciFunction"/>
    /// (the structures in BAR4 with the notify doorbells trapped into eventfds, MSI-X in BAR1),
    /// interrupts routed by virtio vector. Four queues, so queue_select reaches every slot.
    /// </summary>
    private sealed class ServedVirtioBlk : IServed
    {
        private readonly MemoryBlockStorage _storage = new(1 << 20);
        private readonly VirtioBlkDevice _device;
        private readonly VirtioPciFunction _pci;
        private long _completedByNotify;

        public ServedVirtioBlk(GuestMemory memory)
        {
            _device = new VirtioBlkDevice(memory, _storage, new VirtioBlkDeviceOptions { Queues = VirtioPciLayout.MaxQueues });
            _pci = new VirtioPciFunction(_device);
        }

        public PciFunction Function => _pci.Function;

        public void Connect(VfioUserServer server) => _pci.ConnectInterrupts(() => server.Interrupts.MsixMode, server.Interrupts.Raise);

        /// <summary>The device thread's work: each notified queue (a trapped notify write signalled its row), then a poll of every ring.</summary>
        public void AfterServe()
        {
            // Built with the default delivery, so the notify doorbells are a trapped DoorbellSet.
            var doorbells = _pci.Doorbells!;
            long before = _device.Counters.RequestsCompleted;
            for (int row = 0; row < VirtioBlkDevice.DoorbellTable.Count; row++)
                if (doorbells.TakeSignals(row) != 0)
                    _device.ProcessDoorbell(row);
            _completedByNotify = _device.Counters.RequestsCompleted - before;
            _device.Poll();
        }

        public void Check()
        {
            if (_device.InternalErrors != 0)
                throw new FuzzInvariantException($"the virtio-blk device caught an internal error: {_device.LastInternalError}");
        }

        public VirtioServedSummary Summary() => new(_device.Counters.Notifications, _device.Counters.RequestsCompleted, _completedByNotify, _device.Counters.RequestsFailed,
            _device.Counters.NeedsResetRaised, _device.NeedsResetReason, (byte)_device.Status);

        public void Dispose()
        {
            _pci.Dispose();
            _storage.Dispose();
        }
    }

    internal static ReadOnlySpan<byte> CollectionsMarshalBytes(List<byte> bytes) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);

    /// <summary>Frames the sent stream as the server's channel does and checks one reply per command that wanted one, in order.</summary>
    private static long CheckReplies(ReadOnlySpan<byte> stream, VfioUserChannel peer)
    {
        var expected = new Queue<(ushort Id, ushort Command)>();
        int at = 0;
        while (stream.Length - at >= MessageHeader.Size)
        {
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(stream[(at + 4)..]);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(stream[(at + 8)..]);
            // Below the header's own size the channel cannot frame on (Corrupt); a message cut by the end is never answered.
            if (size < MessageHeader.Size || size > stream.Length - at)
                break;
            bool isReply = (flags & 0xF) == 1, noReply = (flags & 0x10) != 0;
            if (!isReply && !noReply)
                expected.Enqueue((BinaryPrimitives.ReadUInt16LittleEndian(stream[at..]), BinaryPrimitives.ReadUInt16LittleEndian(stream[(at + 2)..])));
            at += (int)size;
        }
        using var reply = new ReceivedMessage(new ProtocolLimits(ProtocolLimits.LargestMaxDataTransferSize, 253));
        long count = 0;
        while (true)
        {
            var status = peer.Receive(reply);
            if (status == ReceiveStatus.Closed)
                break;
            if (status != ReceiveStatus.Message)
                throw new FuzzInvariantException($"the server sent a malformed reply ({status})");
            var header = reply.Header;
            if (!header.IsReply)
                throw new FuzzInvariantException($"the server sent a command ({header.Command})");
            if (expected.Count == 0)
                throw new FuzzInvariantException($"a reply ({header.MessageId}, {header.Command}) to no command that wanted one");
            var (id, command) = expected.Dequeue();
            if (header.MessageId != id || (ushort)header.Command != command)
                throw new FuzzInvariantException($"reply ({header.MessageId}, {header.Command}) out of order: expected ({id}, {command})");
            if (header.IsError && (reply.Payload.Length != 0 || Array.IndexOf(ReplyErrnos, (int)header.Error) < 0))
                throw new FuzzInvariantException($"error reply with errno {header.Error} and {reply.Payload.Length} payload bytes");
            count++;
        }
        if (expected.Count != 0)
            throw new FuzzInvariantException($"{expected.Count} command(s) got no reply, first ({expected.Peek().Id}, {expected.Peek().Command})");
        return count;
    }
}

/// <summary>What the virtio-blk device did in one <see cref="VfioUserServerSession"/>.</summary>
/// <remarks><c>CompletedByNotify</c>: the requests the notified queues' doorbells got served (the rest were served at DRIVER_OK, which looks at every queue once).</remarks>
public sealed record VirtioServedSummary(long Notifications, long RequestsCompleted, long CompletedByNotify, long RequestsFailed, long NeedsResetRaised, VirtqueueError LastReason, byte DeviceStatus);
