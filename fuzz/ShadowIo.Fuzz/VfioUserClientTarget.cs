using ShadowIo.Binding;
using ShadowIo.Fuzz.Nvme;
using ShadowIo.Kvm;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Client;
using static Tmds.Linux.LibC;

namespace ShadowIo.Fuzz;

/// <summary>
/// Fuzzes what a hostile vfio-user SERVER sends our <see cref="VfioUserClient"/>: replies to
/// VERSION, DEVICE_GET_INFO and GET_REGION_INFO (the connect), and to whatever the VMM then asks
/// (config reads and writes, DMA_MAP of guest RAM, GET_REGION_IO_FDS when a BAR is attached,
/// REGION_READ/WRITE from the MMIO path, GET_IRQ_INFO and SET_IRQS, DEVICE_RESET), with commands
/// of its own (DMA requests) between them, any sizes, counts, ids and fds.
/// </summary>
/// <remarks>
/// <para>Input: byte 0 is the number of VMM operations n (at most <see cref="MaxOperations"/>),
/// then n four-byte operations <c>[kind, a, b, c]</c>, then the server's stream as
/// <see cref="SocketInput"/> send records (fd k of a record is pool[(k + rotation) % 3] of a 1 MiB
/// memfd and two eventfds; RAM records are skipped). The whole stream goes into the socket and the
/// server's end is shut for writing, so the client never waits: a reply missing from the stream
/// is the link closing. Operations, by <c>kind % 8</c>: 0 ReadConfig(a, 1 &lt;&lt; (c &amp; 3));
/// 1 WriteConfig(a, same width, b); 2 Reset; 3 MapGuestMemory; 4 AttachBar(a % 6, mode b % 4:
/// none, Trap, GuestShadow, BestAvailable) at the next 4 GiB slot, skipped for an absent BAR or
/// one above 4 GiB (the caller's argument checks, not the server's); 5 a guest read and 6 a guest
/// write (value a ^ (b &gt;&gt; 4)) through the bus at offset (a | b &lt;&lt; 8) mod the size of attached BAR
/// (c &gt;&gt; 4), width 1 &lt;&lt; (c &amp; 3); 7 EnableMsix(a % 8 + 1).</para>
/// <para>Checked: the client's documented failures only — <see cref="VfioUserException"/> from
/// every call that talks to the server (and <see cref="ArgumentOutOfRangeException"/> from
/// EnableMsix when the server reports fewer vectors); the MMIO path never throws; after Dispose
/// nothing is left on the bus and no fd the session received or created is open.</para>
/// </remarks>
public static unsafe class VfioUserClientTarget
{
    /// <summary>Operations one input may run.</summary>
    public const int MaxOperations = 32;

    /// <summary>Inputs are cut here.</summary>
    public const int MaxInputBytes = 16 * 1024;

    private static int[]? s_pool;
    private static KvmSystem? s_kvm;
    private static KvmVm? s_vm;
    private static bool s_warm;

    /// <summary>What the last session did (for tests that check the seeds reach deep).</summary>
    public static VfioUserClientSummary? LastSession { get; private set; }

    /// <summary>Runs one input.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > MaxInputBytes)
            input = input[..MaxInputBytes];
        if (s_pool is null)
        {
            var ram = Memfd(1 << 20);
            s_pool = [ram, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)];
            // The VMM's VM: one memfd-backed slot, kept for the process (a fork-server loop runs many inputs).
            s_kvm = KvmSystem.Open();
            s_vm = s_kvm.CreateVm();
            s_vm.SetMemoryRegion(0, 0, MemoryMapping.CreateMemfd("fuzz vfio-user client guest RAM", 1 << 20));
        }
        if (!s_warm)
        {
            RunSession([]);
            s_warm = true;
        }
        var before = VfioUserTarget.FdsOpen();
        RunSession(input);
        var leaked = VfioUserTarget.FdsOpen().Except(before).ToList();
        if (leaked.Count != 0)
            throw new FuzzInvariantException($"{leaked.Count} fd(s) leaked by one client session: {string.Join(", ", leaked)}");
    }

    private static int Memfd(long size)
    {
        fixed (byte* name = "fuzz vfio-user server memfd\0"u8)
        {
            int fd = memfd_create(name, MFD_CLOEXEC);
            if (fd < 0 || ftruncate(fd, size) != 0) throw new IOException("memfd_create failed");
            return fd;
        }
    }

    private static void RunSession(ReadOnlySpan<byte> input)
    {
        var summary = new VfioUserClientSummary();
        LastSession = summary;
        int count = input.IsEmpty ? 0 : Math.Min((int)input[0], MaxOperations);
        int opsEnd = Math.Min(input.Length, 1 + 4 * count);
        var ops = input.Length > 1 ? input[1..opsEnd] : default;
        var stream = input[opsEnd..];
        var (server, clientEnd) = VfioUserChannel.CreatePair(maxSendFds: 253);
        var bus = new MmioBus();
        using (server)
        {
            VfioUserTarget.GrowBuffers(server.Fd);
            VfioUserTarget.GrowBuffers(clientEnd.Fd);
            Span<int> slots = stackalloc int[32];
            foreach (var record in new SocketInput(stream))
            {
                if (record.IsRamWrite)
                    continue;
                var fds = slots[..record.FdCount];
                for (int k = 0; k < fds.Length; k++)
                    fds[k] = s_pool![(k + record.FdRotation) % s_pool.Length];
                if (!VfioUserTarget.Send(server.Fd, record.Data, fds))
                    break;
            }
            shutdown(server.Fd, SHUT_WR);
            VfioUserClient client;
            try
            {
                client = VfioUserClient.Open(clientEnd, log: static _ => { });
            }
            catch (VfioUserException)
            {
                summary.ConnectFailed = true;
                return;   // Open disposed the client and the channel
            }
            catch (Exception e)
            {
                throw new FuzzInvariantException("connecting raised an exception the client does not document", e);
            }
            summary.Connected = true;
            var bars = new List<VfioUserBar>();
            try
            {
                for (int at = 0; at + 4 <= ops.Length; at += 4)
                    Operate(client, bus, bars, ops[at..(at + 4)], summary);
            }
            finally
            {
                summary.FailedAccesses = client.FailedAccesses;
                client.Dispose();
            }
            if (bus.Ranges.Length != 0)
                throw new FuzzInvariantException($"{bus.Ranges.Length} BAR(s) left on the bus after Dispose");
        }
    }

    private static void Operate(VfioUserClient client, MmioBus bus, List<VfioUserBar> bars, ReadOnlySpan<byte> op, VfioUserClientSummary summary)
    {
        int kind = op[0] % 8;
        byte a = op[1], b = op[2], c = op[3];
        int width = 1 << (c & 3);
        if (kind is 5 or 6)
        {
            // The MMIO path, as a vCPU thread drives it: nothing may throw.
            if (bars.Count == 0) return;
            var bar = bars[(c >> 4) % bars.Count];
            ulong gpa = bar.Gpa + (ulong)(a | b << 8) % bar.Region.Size;
            try
            {
                if (kind == 5) bus.TryRead(gpa, width, out _);
                else bus.TryWrite(gpa, width, (ulong)(a ^ (b >> 4)));
                summary.MmioAccesses++;
            }
            catch (Exception e)
            {
                throw new FuzzInvariantException("an exception escaped the client's MMIO path", e);
            }
            return;
        }
        try
        {
            switch (kind)
            {
                case 0: client.ReadConfig(a, width); break;
                case 1: client.WriteConfig(a, width, b); break;
                case 2: client.Reset(); break;
                case 3: client.MapGuestMemory(s_vm!); break;
                case 4:
                    int index = a % 6;
                    var region = client.Regions[index];
                    if (region.Size == 0 || region.Size > 1UL << 32) return;   // the caller's checks, not the server's
                    DoorbellBindingMode? mode = (b % 4) switch
                    {
                        0 => null,
                        1 => DoorbellBindingMode.Trap,
                        2 => DoorbellBindingMode.GuestShadow,
                        _ => DoorbellBindingMode.BestAvailable,
                    };
                    bars.Add(client.AttachBar(index, (ulong)(bars.Count + 1) << 32, bus, s_vm!, mode));
                    summary.BarsAttached++;
                    if (bars[^1].Doorbells is { } bound) summary.DoorbellsBound += bound.Table.Count;
                    break;
                case 7:
                    try
                    {
                        client.EnableMsix(a % 8 + 1).Dispose();
                        summary.MsixEnabled++;
                    }
                    catch (ArgumentOutOfRangeException)
                    {
                        // Documented: the server reported fewer vectors than asked for.
                    }
                    break;
            }
            summary.Succeeded++;
        }
        catch (VfioUserException)
        {
            summary.Refused++;
        }
        catch (Exception e)
        {
            throw new FuzzInvariantException($"operation {kind} raised an exception the client does not document", e);
        }
    }
}

/// <summary>Counts from one <see cref="VfioUserClientTarget"/> session.</summary>
public sealed record VfioUserClientSummary
{
    public bool Connected { get; set; }
    public bool ConnectFailed { get; set; }
    public int Succeeded { get; set; }
    public int Refused { get; set; }
    public int BarsAttached { get; set; }
    public int DoorbellsBound { get; set; }
    public int MsixEnabled { get; set; }
    public int MmioAccesses { get; set; }
    public long FailedAccesses { get; set; }
}
