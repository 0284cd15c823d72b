using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ShadowIo.Qemu;
using ShadowIo.Native;
using ShadowIo.Pci;
using ShadowIo.Qemu.Protocol;
using ShadowIo.Devices.Nvme;
using static Tmds.Linux.LibC;
using ShadowIo.Fuzz.Nvme;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Fuzz;

/// <summary>
/// Fuzzes what a peer process sends <see cref="QemuProxyServer"/>: the input is replayed onto the
/// QEMU end of a real socketpair, with the sample NVMe controller behind BAR0 (trapped I/O
/// doorbells, guest RAM from the memfds the peer sends), as <c>NvmeProxyHost</c> serves it.
/// </summary>
/// <remarks>
/// <para>Input format, records until the input ends (see <see cref="ProxyInput"/>):</para>
/// <list type="bullet">
/// <item><c>ctl</c> with bit 7 clear: one <c>sendmsg</c> of <c>len + 1</c> bytes (next byte) of raw
/// stream, any framing or none, with <c>ctl &amp; 0x1F</c> fds attached (SCM_RIGHTS); fd k is
/// pool[(k + (ctl &gt;&gt; 5 &amp; 3)) % 4] of: a 1 MiB memfd, a 64 KiB memfd, two eventfds.</item>
/// <item><c>ctl</c> with bit 7 set: the guest writes RAM: into memfd <c>ctl &amp; 1</c> at 16 × (next u16),
/// then <c>len</c> bytes (so the controller finds commands and PRP lists where SYNC_SYSMEM put RAM).</item>
/// </list>
/// <para>The whole input is written into the socket first (buffers grown to hold it), then the
/// server loop runs on the calling thread until it reads the end: the same bytes, fds and message
/// boundaries every run, so AFL sees stable traces.</para>
/// <para>Checked: the server loop ends (at the closed stream) without an exception; the replies are
/// well-formed RETs, exactly one per config, BAR and reset request it handled (the proxy's vCPU
/// blocks on each); the controller caught no internal error; and after disposal no fd is left
/// open (every received fd is kept by a mapping or closed).</para>
/// </remarks>
public static unsafe class QemuProxyTarget
{
    public const int MaxInputBytes = 16 * 1024;

    public const int BigRamSize = 1 << 20;
    public const int SmallRamSize = 64 * 1024;

    private static readonly PciIdentity Identity = new(0x1b36, 0x5349, 0x010802, RevisionId: 1, SubsystemVendorId: 0x1b36, SubsystemId: 0x5349);
    private static MemoryMapping? s_bigRam;
    private static MemoryMapping? s_smallRam;
    private static bool s_warm;

    /// <summary>What the last session did (for tests that check the seeds still reach deep state).</summary>
    public static ProxySessionSummary? LastSession { get; private set; }

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > MaxInputBytes) input = input[..MaxInputBytes];
        // The memfds live as long as the process (a fork-server loop runs many inputs) and start every input zeroed.
        s_bigRam ??= MemoryMapping.CreateMemfd("fuzz guest RAM", BigRamSize);
        s_smallRam ??= MemoryMapping.CreateMemfd("fuzz guest RAM (small)", SmallRamSize);
        s_bigRam.Span.Clear();
        s_smallRam.Span.Clear();
        // The runtime opens a few fds of its own on first use (thread pool, poll): not the server's.
        if (!s_warm)
        {
            RunSession([]);
            s_warm = true;
        }
        var fdsBefore = OpenFds();
        RunSession(input);
        var leaked = LeakedFds(fdsBefore);
        if (leaked.Count != 0) throw new FuzzInvariantException($"{leaked.Count} fd(s) leaked by one session: {string.Join(", ", leaked)}");
    }

    private static void RunSession(ReadOnlySpan<byte> input)
    {
        using var storage = new MemoryBlockStorage(1 << 20);
        var memory = new GuestMemory();
        using var controller = new NvmeController(memory, storage);
        using var doorbells = DoorbellSet.Create(NvmeController.DoorbellTable, static e => e.Element != 0);
        controller.DoorbellSource = doorbells.Shadow;
        var bar0 = new PciBar(0, PciBarKind.Memory32, NvmeRegisters.BlockSize, controller, doorbells);
        var (serverEnd, peerEnd) = MpqemuChannel.CreateSocketPair();
        int peerFd = peerEnd.Fd;
        int eventA = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        int eventB = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        var replies = new MemoryStream();
        QemuProxyServer? server = null;
        try
        {
            // (Without root, SO_SNDBUF stops at wmem_max: long inputs are then cut short.)
            GrowBuffers(peerFd);
            GrowBuffers(serverEnd.Fd);
            server = new QemuProxyServer(serverEnd, new PciFunction(Identity, [bar0], () =>
            {
                controller.WriteMmio(NvmeRegisters.CcOffset, 4, 0);
                controller.Registers.ResetRegisters();
            }), log: null, memory);
            var s = server;
            controller.InterruptRequested = _ => s.Interrupt.Pulse();
            // Deterministic for AFL: the whole stream goes into the socket first, then the server
            // loop runs on this thread until it reads the end (no thread, no timing in the trace).
            fcntl(peerFd, F_SETFL, fcntl(peerFd, F_GETFL) | O_NONBLOCK);
            int[] pool = [s_bigRam!.Fd, s_smallRam!.Fd, eventA, eventB];
            var peer = new Peer(peerFd);
            Span<int> fdSlots = stackalloc int[32];
            foreach (var record in new ProxyInput(input))
            {
                if (record.IsRamWrite)
                {
                    var ram = record.RamIndex == 0 ? s_bigRam.Span : s_smallRam.Span;
                    int offset = record.RamOffset % ram.Length;
                    int n = Math.Min(record.Data.Length, ram.Length - offset);
                    record.Data[..n].CopyTo(ram[offset..]);
                    continue;
                }
                var fds = fdSlots[..record.FdCount];
                for (int k = 0; k < fds.Length; k++) fds[k] = pool[(k + record.FdRotation) % pool.Length];
                if (!peer.Send(record.Data, fds)) break;   // socket full: the rest of the input is cut
            }
            shutdown(peerFd, SHUT_WR);
            try
            {
                server.Run();
            }
            catch (Exception e)
            {
                throw new FuzzInvariantException("an exception escaped the proxy server's loop", e);
            }
            // What the doorbell thread of NvmeProxyHost would do next: look at the trapped I/O doorbells.
            controller.Poll();
            peer.DrainAvailable(replies);
            CheckReplies(replies.ToArray(), server.Statistics);
            LastSession = new ProxySessionSummary(server.Statistics.ToString(), server.Statistics.Rejected, server.RamMapper.Syncs,
                controller.Counters.CommandsFetched, controller.Counters.CompletionsPosted, controller.Counters.CompletionWriteFailures);
            if (controller.Counters.InternalErrors != 0)
                throw new FuzzInvariantException($"the controller caught an internal error: {controller.LastInternalError}");
        }
        finally
        {
            server?.Dispose();
            serverEnd.Dispose();   // no-op once the server took it
            peerEnd.Dispose();
            close(eventA);
            close(eventB);
        }
    }

    /// <summary>Every reply is a RET (cmd 1, 8-byte payload), one per request the server handled that waits for one.</summary>
    private static void CheckReplies(byte[] replies, ProxyStatistics statistics)
    {
        const int retBytes = MpqemuWire.HeaderSize + MpqemuWire.RetSize;
        if (replies.Length % retBytes != 0) throw new FuzzInvariantException($"{replies.Length} reply bytes are not whole RET messages");
        for (int i = 0; i < replies.Length; i += retBytes)
        {
            var (command, size) = MpqemuWire.ReadHeader(replies.AsSpan(i));
            if (command != (int)MpqemuCommand.Ret || size != MpqemuWire.RetSize)
                throw new FuzzInvariantException($"reply {i / retBytes} has command {command} and size {size}, not a RET");
        }
        long expected = statistics.ConfigReads + statistics.ConfigWrites + statistics.BarReads + statistics.BarWrites + statistics.Resets;
        if (replies.Length / retBytes != expected)
            throw new FuzzInvariantException($"{replies.Length / retBytes} RETs for {expected} requests that wait for one ({statistics})");
    }

    private static HashSet<string> OpenFds() => [.. Directory.GetFiles("/proc/self/fd")];

    /// <summary>
    /// Fds open now that were not before, of the kinds a session creates or receives (memfds,
    /// eventfds, epoll, sockets): other threads of a test host may open files meanwhile, and
    /// those are not the server's. Only new fds are resolved, so the check stays cheap.
    /// </summary>
    private static List<string> LeakedFds(HashSet<string> before)
    {
        var leaked = new List<string>();
        foreach (var path in Directory.GetFiles("/proc/self/fd"))
        {
            if (before.Contains(path)) continue;
            string? target;
            try { target = new FileInfo(path).LinkTarget; }
            catch (IOException) { continue; }   // closed while we looked
            if (target is null) continue;
            if (target.StartsWith("/memfd:", StringComparison.Ordinal) || target.StartsWith("socket:", StringComparison.Ordinal)
                || target.StartsWith("anon_inode:[eventfd]", StringComparison.Ordinal) || target.StartsWith("anon_inode:[eventpoll]", StringComparison.Ordinal))
                leaked.Add($"{Path.GetFileName(path)} -> {target}");
        }
        return leaked;
    }

    /// <summary>
    /// Room for a whole input and its replies in the socket (16 KiB of input can be thousands of
    /// sends, each an skb): SO_SNDBUFFORCE as root, else as much as SO_SNDBUF allows.
    /// </summary>
    private static void GrowBuffers(int fd)
    {
        int size = 32 << 20;
        const int soSndBufForce = 32;
        if (setsockopt(fd, SOL_SOCKET, soSndBufForce, &size, sizeof(int)) != 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(int));
    }

    /// <summary>QEMU's end: non-blocking sends into the (grown) socket buffer, replies read at the end.</summary>
    private sealed class Peer(int fd)
    {
        private readonly byte[] _receive = new byte[4096];
        private readonly byte[] _control = new byte[RightsControl.BufferSize(32)];

        /// <summary>Sends all of <paramref name="data"/> (fds ride on its first byte); false if the socket is full.</summary>
        public bool Send(ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
        {
            int sent = 0;
            while (sent < data.Length)
            {
                long n;
                fixed (byte* buffer = data)
                fixed (byte* control = _control)
                {
                    var iov = new SocketMessages.IoVector { Base = buffer + sent, Length = (nuint)(data.Length - sent) };
                    var header = new SocketMessages.MessageHeader { Vectors = &iov, VectorCount = 1 };
                    if (sent == 0 && fds.Length > 0)
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
                if (Marshal.GetLastPInvokeError() == EINTR) continue;
                return false;
            }
            return true;
        }

        public void DrainAvailable(MemoryStream replies)
        {
            while (true)
            {
                long n;
                fixed (byte* buffer = _receive) n = recv(fd, buffer, _receive.Length, MSG_DONTWAIT);
                if (n <= 0) return;
                replies.Write(_receive, 0, (int)n);
            }
        }
    }
}

/// <summary>Counts from one <see cref="QemuProxyTarget"/> session.</summary>
public sealed record ProxySessionSummary(string Statistics, long Rejected, long MemorySyncs, long CommandsFetched, long CompletionsPosted, long CompletionWriteFailures);
