using System.Runtime.InteropServices;
using ShadowIo.Fuzz.Nvme;
using ShadowIo.Native;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using static Tmds.Linux.LibC;

namespace ShadowIo.Fuzz;

/// <summary>
/// Fuzzes what a vfio-user client sends a server: the input is replayed onto the client end of a
/// real socketpair, and the server end receives it through <see cref="VfioUserChannel"/> and hands
/// every message to the decoders of its command (requests, and replies where the server is the
/// requester), as the server's dispatch will.
/// </summary>
/// <remarks>
/// <para>Input format: <see cref="SocketInput"/>'s send records (a control byte with bit 7 clear:
/// <c>len + 1</c> raw stream bytes in one sendmsg, any framing or none, with <c>ctl &amp; 0x1F</c>
/// fds from a pool of a memfd and two eventfds); its RAM records are skipped. The whole input goes
/// into the socket first, then the receive loop runs on the calling thread until the stream ends.</para>
/// <para>Then the same input drives a <see cref="ShadowIo.VfioUser.Server.VfioUserServer"/> with the NVMe
/// controller behind it (<see cref="VfioUserServerSession"/>, which says what it checks).</para>
/// <para>Checked: nothing throws; every refusal is one of the protocol's errnos; every message the
/// decoders accept re-encodes to bytes that decode to the same message; and after the session no
/// fd is left open (each received fd was taken and closed, or closed by the channel).</para>
/// </remarks>
public static unsafe class VfioUserTarget
{
    /// <summary>Inputs are cut here (a session is many sends; the socket buffer holds them all).</summary>
    public const int MaxInputBytes = 16 * 1024;

    /// <summary>A small max_data_xfer_size, so a short input reaches the E2BIG paths.</summary>
    private static readonly ProtocolLimits Limits = new(4096, 8);

    private static readonly int[] ProtocolErrnos = [EINVAL, E2BIG, ENOTSUP];

    private static int[]? s_pool;
    private static bool s_warm;

    /// <summary>What the last session did (for tests that check the seeds reach the decoders).</summary>
    public static VfioUserSessionSummary? LastSession { get; private set; }

    /// <summary>Runs one input.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > MaxInputBytes)
            input = input[..MaxInputBytes];
        // The pool lives as long as the process: a fork-server loop runs many inputs.
        if (s_pool is null)
        {
            fixed (byte* name = "fuzz vfio-user RAM\0"u8)
                s_pool = [memfd_create(name, MFD_CLOEXEC), eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)];
        }
        // The runtime opens a few fds of its own on first use: not the session's.
        if (!s_warm)
        {
            RunSession([]);
            s_warm = true;
        }
        var before = FdsOpen();
        RunSession(input);
        var leaked = FdsOpen().Except(before).ToList();
        if (leaked.Count != 0)
            throw new FuzzInvariantException($"{leaked.Count} fd(s) leaked by one session: {string.Join(", ", leaked)}");
        // The same stream into the server itself (its first run opens the runtime's own fds, as above).
        if (!s_serverWarm)
        {
            VfioUserServerSession.Run([], Send, [s_pool[1], s_pool[2]], VfioUserServerSession.ServedDevice.Nvme);
            s_serverWarm = true;
        }
        before = FdsOpen();
        VfioUserServerSession.Run(input, Send, [s_pool[1], s_pool[2]], VfioUserServerSession.ServedDevice.Nvme);
        leaked = FdsOpen().Except(before).ToList();
        if (leaked.Count != 0)
            throw new FuzzInvariantException($"{leaked.Count} fd(s) leaked by one server session: {string.Join(", ", leaked)}");
    }

    private static bool s_serverWarm;

    private static void RunSession(ReadOnlySpan<byte> input)
    {
        int* ends = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
            throw new IOException("socketpair failed");
        int peer = ends[1];
        var summary = new VfioUserSessionSummary();
        try
        {
            using var server = new VfioUserChannel(new FileDescriptorHandle(ends[0]));
            GrowBuffers(peer);
            GrowBuffers(ends[0]);
            Span<int> slots = stackalloc int[32];
            foreach (var record in new SocketInput(input))
            {
                if (record.IsRamWrite)
                    continue;
                var fds = slots[..record.FdCount];
                for (int k = 0; k < fds.Length; k++)
                    fds[k] = s_pool![(k + record.FdRotation) % s_pool.Length];
                if (!Send(peer, record.Data, fds))
                    break;   // socket full: the rest of the input is cut
            }
            shutdown(peer, SHUT_WR);
            using var message = new ReceivedMessage(Limits);
            try
            {
                while (true)
                {
                    var status = server.Receive(message);
                    if (status is ReceiveStatus.Closed or ReceiveStatus.Corrupt)
                    {
                        summary.Ended = status;
                        break;
                    }
                    if (status == ReceiveStatus.Rejected)
                    {
                        summary.Rejected++;
                        Answer(message.Error, "the channel");
                        continue;
                    }
                    summary.Messages++;
                    if (Dispatch(message) == 0)
                        summary.Accepted++;
                    // The handler keeps some fds: they are its to close.
                    for (int i = 0; i < message.Fds.Count; i += 2)
                        message.Fds.Take(i).Dispose();
                }
            }
            catch (Exception e) when (e is not FuzzInvariantException)
            {
                throw new FuzzInvariantException("an exception escaped the vfio-user channel or a decoder", e);
            }
        }
        finally
        {
            close(peer);
            LastSession = summary;
        }
    }

    /// <summary>The decoders of the message's command; returns 0 if the message was accepted.</summary>
    private static int Dispatch(ReceivedMessage message)
    {
        var header = message.Header;
        var payload = message.Payload;
        int fds = message.Fds.Count;
        var buffer = new byte[Limits.MaxMessageSize];
        int error;
        switch (header.Command)
        {
            case VfioUserCommand.Version:
                error = VersionMessage.Decode(payload, out var version);
                if (error == 0)
                    Same(version, Decoded(VersionMessage.Decode(buffer.AsSpan(0, version.Encode(buffer)), out var again), again), "VERSION");
                break;
            case VfioUserCommand.DmaMap:
                error = DmaMapRequest.Decode(payload, fds, out var map);
                if (error == 0)
                    Same(map, Decoded(DmaMapRequest.Decode(buffer.AsSpan(0, map.Encode(buffer)), fds, out var again), again), "DMA_MAP");
                break;
            case VfioUserCommand.DmaUnmap:
                error = DmaUnmapRequest.Decode(payload, fds, out var unmap);
                if (error == 0)
                    Same(unmap, Decoded(DmaUnmapRequest.Decode(buffer.AsSpan(0, unmap.Encode(buffer)), fds, out var again), again), "DMA_UNMAP");
                break;
            case VfioUserCommand.DeviceGetInfo:
                error = header.IsReply ? DeviceInfo.DecodeReply(payload, out _) : DeviceInfo.DecodeRequest(payload, fds);
                break;
            case VfioUserCommand.DeviceGetRegionInfo:
                if (header.IsReply)
                {
                    error = RegionInfo.DecodeReply(payload, fds, out var info, out var areas);
                    for (int i = 0; i < areas.Count; i++)
                        _ = areas[i];
                }
                else
                {
                    error = RegionInfo.DecodeRequest(payload, fds, out _, out _);
                }
                break;
            case VfioUserCommand.DeviceGetRegionIoFds:
                if (header.IsReply)
                {
                    error = RegionIoFds.DecodeReply(payload, fds, out uint index, out _, out var entries);
                    if (error == 0 && entries.Count > 0)
                    {
                        var list = new RegionIoFdEntry[entries.Count];
                        for (int i = 0; i < list.Length; i++)
                            list[i] = entries[i];
                        var (n, _) = RegionIoFds.EncodeReply(buffer, uint.MaxValue, index, list);
                        Decoded(RegionIoFds.DecodeReply(buffer.AsSpan(0, n), fds, out _, out _, out var again), 0);
                        for (int i = 0; i < list.Length; i++)
                            Same(list[i], again[i], "GET_REGION_IO_FDS entry");
                    }
                }
                else
                {
                    error = RegionIoFds.DecodeRequest(payload, fds, out _, out _);
                }
                break;
            case VfioUserCommand.DeviceGetIrqInfo:
                error = header.IsReply ? IrqInfo.DecodeReply(payload, out _) : IrqInfo.DecodeRequest(payload, fds, out _);
                break;
            case VfioUserCommand.DeviceSetIrqs:
                error = IrqSetRequest.Decode(payload, fds, out var set, out var data);
                if (error == 0)
                {
                    Answer(set.CheckRange(64), "SET_IRQS range");
                    int n = set.Encode(buffer, data);
                    Decoded(IrqSetRequest.Decode(buffer.AsSpan(0, n), fds, out var again, out var againData), 0);
                    Same(set, again, "SET_IRQS");
                    if (!data.SequenceEqual(againData))
                        throw new FuzzInvariantException("SET_IRQS: DATA_BOOL bytes changed in a round trip");
                }
                break;
            case VfioUserCommand.RegionRead:
                error = RegionAccess.DecodeReadRequest(payload, fds, Limits, out var read);
                if (error == 0)
                    Same(read, Decoded(RegionAccess.DecodeReadRequest(buffer.AsSpan(0, read.Encode(buffer)), fds, Limits, out var again), again), "REGION_READ");
                break;
            case VfioUserCommand.RegionWrite:
                error = RegionAccess.DecodeWriteRequest(payload, fds, Limits, out var write, out var written);
                if (error == 0)
                {
                    int n = write.Encode(buffer, written);
                    Decoded(RegionAccess.DecodeWriteRequest(buffer.AsSpan(0, n), fds, Limits, out var again, out var againData), 0);
                    Same(write, again, "REGION_WRITE");
                    if (!written.SequenceEqual(againData))
                        throw new FuzzInvariantException("REGION_WRITE: data changed in a round trip");
                }
                break;
            case VfioUserCommand.RegionWriteMulti:
                error = RegionWriteMulti.DecodeRequest(payload, fds, out var writes);
                for (int i = 0; i < writes.Count; i++)
                    _ = writes[i].Data.Length;
                break;
            case VfioUserCommand.DmaRead:
            case VfioUserCommand.DmaWrite:
                bool isWrite = header.Command == VfioUserCommand.DmaWrite;
                error = DmaAccess.DecodeRequest(payload, fds, DmaMessageLayout.Qemu, isWrite, Limits, out var dma, out _);
                Answer(DmaAccess.DecodeRequest(payload, fds, DmaMessageLayout.Spec, isWrite, Limits, out _, out _), "DMA (spec layout)");
                Answer(DmaAccess.DecodeReply(payload, DmaMessageLayout.Qemu, isWrite, dma, out _), "DMA reply");
                break;
            case VfioUserCommand.DeviceReset:
                error = DeviceReset.DecodeRequest(payload, fds);
                break;
            default:
                // Commands the server does not serve (DEVICE_FEATURE, migration, unknown): refused.
                error = EINVAL;
                break;
        }
        Answer(error, header.Command.ToString());
        return error;
    }

    private static void Answer(int errno, string what)
    {
        if (errno != 0 && Array.IndexOf(ProtocolErrnos, errno) < 0)
            throw new FuzzInvariantException($"{what} answered errno {errno}, not one the protocol replies with");
    }

    private static T Decoded<T>(int errno, T value) =>
        errno == 0 ? value : throw new FuzzInvariantException($"a re-encoded message was refused with errno {errno}");

    private static void Same<T>(T expected, T actual, string what) where T : IEquatable<T>
    {
        if (!expected.Equals(actual))
            throw new FuzzInvariantException($"{what} changed in a round trip: {expected} became {actual}");
    }

    /// <summary>Descriptors open in this process, by number and target (a leak shows as a new pair).</summary>
    internal static HashSet<string> FdsOpen()
    {
        var open = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
                continue;   // closed while we looked
            }
            // Only the kinds a session creates or receives: other threads of a test host open files meanwhile.
            if (target is not null && (target.StartsWith("/memfd:", StringComparison.Ordinal) || target.StartsWith("socket:", StringComparison.Ordinal)
                || target.StartsWith("anon_inode:[eventfd]", StringComparison.Ordinal)))
                open.Add($"{Path.GetFileName(path)} -> {target}");
        }
        return open;
    }

    /// <summary>Room for a whole input in the socket: SO_SNDBUFFORCE as root, else what SO_SNDBUF allows.</summary>
    internal static void GrowBuffers(int fd)
    {
        int size = 32 << 20;
        const int soSndBufForce = 32;
        if (setsockopt(fd, SOL_SOCKET, soSndBufForce, &size, sizeof(int)) != 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(int));
    }

    /// <summary>All of <paramref name="data"/> without blocking, the fds on its first byte; false once the socket is full.</summary>
    internal static bool Send(int fd, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        var control = stackalloc byte[RightsControl.BufferSize(32)];
        int sent = 0;
        while (sent < data.Length)
        {
            long n;
            fixed (byte* buffer = data)
            {
                var vector = new SocketMessages.IoVector { Base = buffer + sent, Length = (nuint)(data.Length - sent) };
                var header = new SocketMessages.MessageHeader { Vectors = &vector, VectorCount = 1 };
                if (sent == 0 && !fds.IsEmpty)
                {
                    header.Control = control;
                    header.ControlLength = (nuint)RightsControl.Write(control, fds);
                }
                n = SocketMessages.SendMessage(fd, &header, SocketMessages.MsgNoSignal | MSG_DONTWAIT);
            }
            if (n > 0)
            {
                sent += (int)n;
                continue;
            }
            if (n < 0 && Marshal.GetLastPInvokeError() == EINTR)
                continue;
            return false;
        }
        return true;
    }
}

/// <summary>Counts from one <see cref="VfioUserTarget"/> session.</summary>
public sealed record VfioUserSessionSummary
{
    /// <summary>Messages the channel delivered.</summary>
    public int Messages { get; set; }

    /// <summary>Of those, accepted by their decoders.</summary>
    public int Accepted { get; set; }

    /// <summary>Messages the channel refused (bad header, oversized, too many or truncated fds).</summary>
    public int Rejected { get; set; }

    /// <summary>How the stream ended.</summary>
    internal ReceiveStatus Ended { get; set; }

    /// <summary>Whether the stream ended between messages.</summary>
    public bool EndedCleanly => Ended == ReceiveStatus.Closed;
}
