using System.Runtime.InteropServices;
using ShadowIo.Testing;
using ShadowIo.Devices.Nvme;
using ShadowIo.Fuzz.Nvme;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>
/// Plays the host driver against a controller with plain guest RAM and MMIO calls: builds
/// queues in RAM, rings doorbells through <see cref="NvmeController.WriteMmio"/> (which reaches
/// the generated <c>OnDoorbellWritten</c> hook) and reaps completions by their phase tag.
/// </summary>
internal sealed class NvmeTestHost : IDisposable
{
    public const ulong RamBase = 0x10_0000;
    public const int RamSize = 8 << 20;
    public const ulong AdminSq = RamBase;
    public const ulong AdminCq = RamBase + 0x1_0000;
    public const ulong DataArea = RamBase + 0x40_0000;
    public const int AdminEntries = 32;

    private readonly Dictionary<int, HostQueue> _queues = [];

    public NvmeTestHost(long namespaceBytes = 1 << 20, NvmeControllerOptions? options = null, IBlockStorage? storage = null)
    {
        Ram = new GuestRam(RamBase, RamSize);
        Storage = storage ?? new MemoryBlockStorage(namespaceBytes);
        Controller = new NvmeController(Ram.Memory, Storage, options);
    }

    public GuestRam Ram { get; }
    public IBlockStorage Storage { get; }
    public NvmeController Controller { get; }
    public HostQueue Admin => _queues[0];

    /// <summary>Where I/O queue <paramref name="qid"/>'s SQ and CQ rings live.</summary>
    public static ulong IoSq(int qid) => RamBase + 0x2_0000 + (ulong)qid * 0x2_0000;
    public static ulong IoCq(int qid) => IoSq(qid) + 0x1_0000;

    /// <summary>Programs AQA/ASQ/ACQ (ASQ/ACQ as two 32-bit halves, like Linux) and sets CC.EN.</summary>
    public void Enable(int adminEntries = AdminEntries, uint cc = CcEnabled)
    {
        Write32(NvmeRegisters.AqaOffset, (uint)(adminEntries - 1) | ((uint)(adminEntries - 1) << 16));
        Write32(NvmeRegisters.AsqOffset, (uint)AdminSq);
        Write32(NvmeRegisters.AsqOffset + 4, (uint)(AdminSq >> 32));
        Write32(NvmeRegisters.AcqOffset, (uint)AdminCq);
        Write32(NvmeRegisters.AcqOffset + 4, (uint)(AdminCq >> 32));
        Ram.At(AdminSq, adminEntries * 64).Clear();
        Ram.At(AdminCq, adminEntries * 16).Clear();
        Write32(NvmeRegisters.CcOffset, cc);
        _queues[0] = new HostQueue(0, AdminSq, adminEntries, AdminCq, adminEntries);
    }

    /// <summary>CC with EN = 1, IOSQES = 6, IOCQES = 4 (what Linux writes).</summary>
    public const uint CcEnabled = 1 | (6 << 16) | (4 << 20);

    public void Disable()
    {
        Write32(NvmeRegisters.CcOffset, CcEnabled & ~1u);
        _queues.Clear();
    }

    public uint Read32(ulong offset) => (uint)Controller.ReadMmio(offset, 4);
    public ulong Read64(ulong offset) => Controller.ReadMmio(offset, 8);
    public void Write32(ulong offset, uint value) => Controller.WriteMmio(offset, 4, value);

    public bool Ready => (Read32(NvmeRegisters.CstsOffset) & 1) != 0;
    public bool Fatal => (Read32(NvmeRegisters.CstsOffset) & 2) != 0;

    /// <summary>Creates I/O CQ and SQ <paramref name="qid"/> through admin commands; asserts success.</summary>
    public HostQueue CreateIoQueuePair(int qid, int entries = 64)
    {
        Ram.At(IoSq(qid), entries * 64).Clear();
        Ram.At(IoCq(qid), entries * 16).Clear();
        var cq = AdminCommand(Commands.CreateCq(qid, entries, IoCq(qid)));
        Xunit.Assert.Equal(NvmeStatus.Success, cq.Status);
        var sq = AdminCommand(Commands.CreateSq(qid, entries, IoSq(qid), qid));
        Xunit.Assert.Equal(NvmeStatus.Success, sq.Status);
        return _queues[qid] = new HostQueue(qid, IoSq(qid), entries, IoCq(qid), entries);
    }

    public CompletionEntry AdminCommand(SubmissionEntry entry) => Execute(Admin, entry);

    /// <summary>Submits, rings, reaps exactly one completion and rings the CQ head.</summary>
    public CompletionEntry Execute(HostQueue q, SubmissionEntry entry)
    {
        Submit(q, entry);
        RingSq(q);
        Xunit.Assert.True(TryReap(q, out var c), "no completion was posted");
        RingCq(q);
        return c;
    }

    public ushort Submit(HostQueue q, SubmissionEntry entry)
    {
        ushort cid = q.NextCommandId++;
        entry.Cdw0 = (entry.Cdw0 & 0xFFFF) | ((uint)cid << 16);
        MemoryMarshal.Write(Ram.At(q.SqBase + (ulong)q.SqTail * 64, 64), in entry);
        q.SqTail = (q.SqTail + 1) % q.SqEntries;
        return cid;
    }

    public void RingSq(HostQueue q) => Write32(0x1000 + 8 * (ulong)q.Id, (uint)q.SqTail);

    public void RingCq(HostQueue q) => Write32(0x1004 + 8 * (ulong)q.Id, (uint)q.CqHead);

    public bool TryReap(HostQueue q, out CompletionEntry completion)
    {
        completion = CompletionEntry.Parse(Ram.At(q.CqBase + (ulong)q.CqHead * 16, 16));
        if (completion.Phase != q.Phase) return false;
        q.CqHead++;
        if (q.CqHead == q.CqEntries)
        {
            q.CqHead = 0;
            q.Phase = !q.Phase;
        }
        return true;
    }

    public List<CompletionEntry> ReapAll(HostQueue q)
    {
        var list = new List<CompletionEntry>();
        while (TryReap(q, out var c)) list.Add(c);
        return list;
    }

    public void Dispose()
    {
        Controller.Dispose();
        Storage.Dispose();
        Ram.Dispose();
    }
}

/// <summary>The host driver's view of one queue pair.</summary>
internal sealed class HostQueue(int id, ulong sqBase, int sqEntries, ulong cqBase, int cqEntries)
{
    public int Id { get; } = id;
    public ulong SqBase { get; } = sqBase;
    public int SqEntries { get; } = sqEntries;
    public ulong CqBase { get; } = cqBase;
    public int CqEntries { get; } = cqEntries;
    public int SqTail { get; set; }
    public int CqHead { get; set; }
    public bool Phase { get; set; } = true;
    public ushort NextCommandId { get; set; } = 1;
}

/// <summary>Submission entries as a host driver builds them.</summary>
internal static class Commands
{
    public static SubmissionEntry Admin(AdminOpcode opcode, uint nsid = 0, ulong prp1 = 0, ulong prp2 = 0, uint cdw10 = 0, uint cdw11 = 0) =>
        new() { Cdw0 = (byte)opcode, Nsid = nsid, Prp1 = prp1, Prp2 = prp2, Cdw10 = cdw10, Cdw11 = cdw11 };

    public static SubmissionEntry CreateCq(int qid, int entries, ulong address, bool interrupts = false, int vector = 0) =>
        Admin(AdminOpcode.CreateIoCompletionQueue, prp1: address, cdw10: (uint)qid | ((uint)(entries - 1) << 16),
            cdw11: 1u | (interrupts ? 2u : 0) | ((uint)vector << 16));

    public static SubmissionEntry CreateSq(int qid, int entries, ulong address, int cqid) =>
        Admin(AdminOpcode.CreateIoSubmissionQueue, prp1: address, cdw10: (uint)qid | ((uint)(entries - 1) << 16), cdw11: 1u | ((uint)cqid << 16));

    public static SubmissionEntry DeleteSq(int qid) => Admin(AdminOpcode.DeleteIoSubmissionQueue, cdw10: (uint)qid);

    public static SubmissionEntry DeleteCq(int qid) => Admin(AdminOpcode.DeleteIoCompletionQueue, cdw10: (uint)qid);

    public static SubmissionEntry Identify(IdentifyCns cns, uint nsid, ulong prp1, ulong prp2 = 0) =>
        Admin(AdminOpcode.Identify, nsid, prp1, prp2, (uint)cns);

    public static SubmissionEntry Io(IoOpcode opcode, ulong slba, int blocks, ulong prp1, ulong prp2 = 0, uint nsid = NvmeController.NamespaceId) =>
        new()
        {
            Cdw0 = (byte)opcode, Nsid = nsid, Prp1 = prp1, Prp2 = prp2,
            Cdw10 = (uint)slba, Cdw11 = (uint)(slba >> 32), Cdw12 = (uint)(blocks - 1) & 0xFFFF,
        };

    public static SubmissionEntry DoorbellBufferConfig(ulong shadow, ulong eventIdx) =>
        Admin(AdminOpcode.DoorbellBufferConfig, prp1: shadow, prp2: eventIdx);
}
