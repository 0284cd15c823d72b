using System.Buffers.Binary;
using ShadowIo.Devices.Nvme;
using ShadowIo.Fuzz.Nvme;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using ShadowIo.VfioUser.Server;
using static Tmds.Linux.LibC;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Fuzz;

/// <summary>
/// The second half of the vfio-user target: the same input replayed into a
/// <see cref="VfioUserServer"/> serving the sample NVMe controller as the <c>linux</c> verb serves
/// it (64-bit BAR0 with trapped I/O doorbells, MSI-X table in BAR4, client memory from the memfds
/// the peer maps).
/// </summary>
/// <remarks>
/// <para>The whole stream goes into the socket first, then the server loop runs on the calling
/// thread to the end of the stream (no thread, no timing: stable traces for AFL).</para>
/// <para>Checked: no exception leaves the loop; the replies are exactly one per framed command
/// that asked for one (not NO_REPLY, not itself a reply), in order, each echoing its command's
/// msg_id and cmd, and an error reply is the bare header with an errno the protocol uses; no reply
/// to a posted message; the device never failed an access and the controller caught no internal
/// error. The caller checks that no fd outlives the session.</para>
/// </remarks>
internal static unsafe class VfioUserServerSession
{
    /// <summary>Client memory the pool's memfd offers to DMA_MAP (maps inside it succeed).</summary>
    public const int RamSize = 1 << 20;

    private static readonly PciIdentity Identity = new(0x1b36, 0x5349, 0x010802, RevisionId: 1);
    private static readonly int[] ReplyErrnos = [EINVAL, E2BIG, ENOTSUP, EEXIST, ENOENT, ENOSPC, ENOMEM];
    private static MemoryMapping? s_ram;

    /// <summary>Counts from the last session.</summary>
    public static (long Messages, long ErrorReplies, long DmaMaps, long Replies) LastCounts { get; private set; }

    public static void Run(ReadOnlySpan<byte> input, Func<int, ReadOnlySpan<byte>, ReadOnlySpan<int>, bool> send, int[] eventFds)
    {
        s_ram ??= MemoryMapping.CreateMemfd("fuzz vfio-user client RAM", RamSize);
        s_ram.Span.Clear();
        using var storage = new MemoryBlockStorage(1 << 20);
        var memory = new GuestMemory();
        using var controller = new NvmeController(memory, storage);
        using var doorbells = DoorbellSet.Create(NvmeController.DoorbellTable, static e => e.Element != 0);
        controller.DoorbellSource = doorbells.Shadow;
        var msix = new MsixTable(NvmeRegisters.QueueCount);
        var function = new PciFunction(Identity,
            [new PciBar(0, PciBarKind.Memory64, NvmeRegisters.BlockSize, controller, doorbells), new PciBar(4, PciBarKind.Memory32, msix.BarSize, msix)],
            () =>
            {
                controller.WriteMmio(NvmeRegisters.CcOffset, 4, 0);
                controller.Registers.ResetRegisters();
            },
            PciMsix.InBar(4, msix));
        var server = new VfioUserServer(function, memory);
        controller.InterruptRequested = server.Interrupts.Raise;
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
                    controller.Poll();
                }
                catch (Exception e)
                {
                    throw new FuzzInvariantException("an exception escaped the vfio-user server's loop", e);
                }
                var stats = server.Statistics;
                if (stats.DeviceFailures != 0)
                    throw new FuzzInvariantException($"the device failed {stats.DeviceFailures} access(es)");
                if (controller.Counters.InternalErrors != 0)
                    throw new FuzzInvariantException($"the controller caught an internal error: {controller.LastInternalError}");
            }
            finally
            {
                // Closes the server's end, so the peer reads every reply and then the end of the stream.
                server.Dispose();
            }
            long replies = CheckReplies(CollectionsMarshalBytes(sent), peerEnd);
            LastCounts = (server.Statistics.Messages, server.Statistics.ErrorReplies, server.Statistics.DmaMaps, replies);
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
