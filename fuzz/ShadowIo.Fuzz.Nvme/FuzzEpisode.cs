using System.Buffers.Binary;

namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// One fuzz episode: a fresh controller over fuzz RAM, driven by a host model that submits
/// random commands, rings random doorbells, writes random registers and resets the controller,
/// checking after every input that:
/// no exception escaped; the controller reported no internal error; it fetched only entries the
/// host published; every fetched command completed exactly once, with a status the spec allows
/// (and Success for commands built to be valid); each namespace access was the running command's
/// own (its LBA range, a Write's own data); guest RAM changed only where the fetched commands
/// allowed the controller to write (FuzzEpisode.Dma.cs), and its red zones are untouched. At the
/// end, a fresh Write + Read must round-trip.
/// </summary>
internal sealed partial class FuzzEpisode : IDisposable
{
    private const uint CcEnabled = 1 | (6 << 16) | (4 << 20);
    private const int NamespaceBytes = 1 << 20;
    private const int BlockSize = 512;

    private readonly FuzzSource _r;
    private readonly GuestRam _ram;
    private readonly ExpectedGuestRam _image;
    private readonly FuzzReport _report;
    private readonly RecordingStorage _storage = new(NamespaceBytes);
    private readonly NvmeController _controller;
    private readonly CommandGenerator _generator;
    private readonly ModelSq?[] _sqs = new ModelSq?[NvmeRegisters.QueueCount];
    private readonly ModelCq?[] _cqs = new ModelCq?[NvmeRegisters.QueueCount];
    private readonly List<ushort> _outstandingAers = [];
    private readonly string _name;
    private bool _dbbuf;
    private long _action;
    private long _lastInvalidDoorbells;

    public FuzzEpisode(FuzzSource source, GuestRam ram, FuzzReport report, string name)
    {
        _r = source;
        _ram = ram;
        _report = report;
        _name = name;
        _image = new ExpectedGuestRam(ram);
        _controller = new NvmeController(ram.Memory, _storage) { CommandFetched = OnCommandFetched };
        _storage.Observer = OnNamespaceAccess;
        _generator = new CommandGenerator(source, _image, (ulong)NamespaceBytes / BlockSize);
    }

    /// <summary>Runs up to <paramref name="inputs"/> inputs (fewer if a finite source runs out) and the final round trip.</summary>
    public void Run(int inputs)
    {
        try
        {
            _report.Episodes++;
            // Guard bytes everywhere: what no command may write must read back exactly so.
            _image.FillGuardEverywhere();
            Setup();
            for (int i = 0; i < inputs && !_r.Exhausted; i++)
            {
                _action++;
                _report.Inputs++;
                Step();
                Check();
            }
            RoundTrip();
            CompareRam();
        }
        catch (Exception e)
        {
            Fail("exception escaped: " + e);
        }
        finally
        {
            _report.CompletionWriteFailures += _controller.Counters.CompletionWriteFailures;
            Dispose();
        }
    }

    public void Dispose()
    {
        _controller.Dispose();
        _storage.Dispose();
    }

    private void Fail(string message) => _report.Fail($"{_name} input {_action}: {message}");

    private void Step()
    {
        int p = _r.Next(100);
        if (Trace) Console.WriteLine($"input {_action}: step {p} dbbuf {_dbbuf}");
        switch (p)
        {
            case < 35: SubmitIo(); break;
            case < 55: SubmitAdmin(); break;
            case < 64: InvalidDoorbell(); break;
            case < 67: ChaosTail(); break;
            case < 72: RandomRegisterWrite(); break;
            case < 75: ResetMidIo(); break;
            case < 80: Guard(() => _controller.Poll()); break;
            case < 85: Guard(() => _controller.ProcessDoorbell(_r.Next(-2, 2 * NvmeRegisters.QueueCount + 2))); break;
            case < 88: Guard(() => _controller.IsPolling = !_controller.IsPolling); break;
            case < 90: MemoryMapChange(); break;
            default: RingCompletionHeads(force: true); break;
        }
    }

    /// <summary>Every call into the controller: nothing may escape.</summary>
    private void Guard(Action call)
    {
        try
        {
            call();
        }
        catch (Exception e)
        {
            Fail("exception escaped the controller: " + e);
        }
    }

    private void Write32(ulong offset, uint value) => Guard(() => _controller.WriteMmio(offset, 4, value));

    // ---------------------------------------------------------------- setup and reset

    private void Setup()
    {
        Array.Clear(_sqs);
        Array.Clear(_cqs);
        _outstandingAers.Clear();
        _dbbuf = false;
        _image.Clear(FuzzLayout.AdminSq, FuzzLayout.AdminEntries * SubmissionEntry.Size);
        _image.Clear(FuzzLayout.AdminCq, FuzzLayout.AdminEntries * CompletionEntry.Size);
        GuardRingTail(FuzzLayout.AdminSq, FuzzLayout.AdminEntries * SubmissionEntry.Size);
        GuardRingTail(FuzzLayout.AdminCq, FuzzLayout.AdminEntries * CompletionEntry.Size);
        Write32(NvmeRegisters.AqaOffset, (FuzzLayout.AdminEntries - 1) * 0x1_0001u);
        Guard(() => _controller.WriteMmio(NvmeRegisters.AsqOffset, 8, FuzzLayout.AdminSq));
        Guard(() => _controller.WriteMmio(NvmeRegisters.AcqOffset, 8, FuzzLayout.AdminCq));
        Write32(NvmeRegisters.CcOffset, CcEnabled);
        if (!_controller.Registers.CstsRdy)
        {
            Fail("controller did not become ready after a valid enable: " + _controller.LastEnableFailure);
            return;
        }
        var acq = _cqs[0] = new ModelCq(0, FuzzLayout.AdminCq, FuzzLayout.AdminEntries);
        _sqs[0] = new ModelSq(0, FuzzLayout.AdminSq, FuzzLayout.AdminEntries, acq);
        // After a reset the controller may write nothing until commands run again.
        _sqsInWindow = _cqsInWindow = 1;
        _dbbufInWindow = _dbbufNewPagesInWindow = false;
        _lastInvalidDoorbells = _controller.Counters.InvalidDoorbellWrites;
        int pairs = _r.Next(1, 4);
        for (int i = 0; i < pairs; i++)
        {
            int qid = _r.Next(1, NvmeRegisters.QueueCount);
            if (_sqs[qid] is not null || _cqs[qid] is not null) continue;
            int size = _r.Next(2, FuzzLayout.MaxIoEntries + 1);
            ClearRings(qid);
            SubmitAndCheck(AdminEntry(AdminOpcode.CreateIoCompletionQueue, FuzzLayout.Cq(qid), (uint)qid | (uint)(size - 1) << 16, 1));
            SubmitAndCheck(AdminEntry(AdminOpcode.CreateIoSubmissionQueue, FuzzLayout.Sq(qid), (uint)qid | (uint)(size - 1) << 16, 1 | (uint)qid << 16));
        }
        if (_r.Chance(40)) SubmitAndCheck(AdminEntry(AdminOpcode.DoorbellBufferConfig, FuzzLayout.ShadowPage, 0, 0, FuzzLayout.EventIdxPage));
    }

    /// <summary>The host driver zeroes a queue's rings before creating it (stale phase tags would look new).</summary>
    private void ClearRings(int qid)
    {
        _image.Clear(FuzzLayout.Sq(qid), FuzzLayout.MaxIoEntries * SubmissionEntry.Size);
        _image.Clear(FuzzLayout.Cq(qid), FuzzLayout.MaxIoEntries * CompletionEntry.Size);
        ClearShadow(qid, tail: true);
        ClearShadow(qid, tail: false);
    }

    /// <summary>Like Linux, a new queue starts from a zeroed shadow slot (a stale tail is new work).</summary>
    private void ClearShadow(int qid, bool tail)
    {
        if (!_dbbuf) return;
        _image.Clear(FuzzLayout.ShadowPage + 8 * (ulong)qid + (tail ? 0UL : 4UL), 4);
    }

    private static SubmissionEntry AdminEntry(AdminOpcode opcode, ulong prp1, uint cdw10, uint cdw11, ulong prp2 = 0) =>
        new() { Cdw0 = (byte)opcode, Prp1 = prp1, Prp2 = prp2, Cdw10 = cdw10, Cdw11 = cdw11 };

    private void SubmitAndCheck(SubmissionEntry entry)
    {
        var admin = _sqs[0];
        if (admin is null) return;
        if (Submit(admin, entry, mustSucceed: true)) Ring(admin, admin.Tail);
        Check();
    }

    /// <summary>CC.EN toggled with commands written but not rung, or in flight in the rings.</summary>
    private void ResetMidIo()
    {
        for (int i = _r.Next(4); i > 0; i--)
        {
            var sq = RandomIoQueue();
            if (sq is null) break;
            var (entry, good) = _generator.Io();
            Submit(sq, entry, good);
        }
        if (_r.Chance(50)) RingRandomQueue();
        Check();
        _report.ControllerResets++;
        long fetched = _controller.Counters.CommandsFetched;
        Write32(NvmeRegisters.CcOffset, CcEnabled & ~1u);
        if (_controller.Counters.CommandsFetched != fetched) Fail("commands were fetched during a reset");
        if (_controller.Registers.Csts != 0) Fail($"CSTS 0x{_controller.Registers.Csts:x} after reset");
        if (_controller.IsDoorbellBufferActive) Fail("doorbell buffer still active after reset");
        // Doorbells to the old queues are now ignored.
        Write32(0x1000 + 8 * (ulong)_r.Next(NvmeRegisters.QueueCount), (uint)_r.Next(64));
        if (_controller.Counters.CommandsFetched != fetched) Fail("a doorbell was processed while disabled");
        Setup();
    }

    /// <summary>
    /// The VMM takes guest RAM out of the memory map while the guest keeps ringing (QEMU re-sending
    /// its regions): rings, PRPs and dbbuf pages all vanish. Nothing may throw or touch memory;
    /// fetches and completions fail cleanly. Then RAM comes back and the host resets the controller.
    /// </summary>
    private void MemoryMapChange()
    {
        _report.MemoryMapChanges++;
        var regions = _ram.Memory.Regions.ToArray();
        _ram.Memory.SetRegions([]);
        for (int i = _r.Next(1, 6); i > 0; i--)
        {
            switch (_r.Next(3))
            {
                case 0: RingRandomQueue(); break;
                case 1: Guard(() => _controller.Poll()); break;
                default: RingCompletionHeads(force: true); break;
            }
        }
        _ram.Memory.SetRegions(regions);
        _report.ControllerResets++;
        Write32(NvmeRegisters.CcOffset, 0);
        // With RAM absent no command can even be read, so nothing may have reached the namespace.
        if (_storage.Writes.Count != 0) Fail($"{_storage.Writes.Count} namespace write(s) while guest RAM was unmapped");
        _storage.Writes.Clear();
        Setup();
    }

    /// <summary>Random guest writes anywhere in the register file; the model re-initialises if CC changed.</summary>
    private void RandomRegisterWrite()
    {
        _report.RegisterWrites++;
        ulong offset = _r.Chance(80) ? (ulong)_r.Next(0x40) : _r.Chance(50) ? (ulong)_r.Next(0x4000) : _r.NextULong();
        int size = _r.Pick<int>([1, 2, 4, 4, 4, 8, 8, 0, 3, 16]);
        ulong value = _r.NextULong();
        bool touchesDoorbells = offset >= 0x1000 && offset < 0x1000 + 8 * NvmeRegisters.QueueCount;
        if (touchesDoorbells) return; // Doorbells have their own inputs with a model of their effect.
        Guard(() => _controller.WriteMmio(offset, size, value));
        Guard(() => _controller.ReadMmio(_r.Chance(80) ? (ulong)_r.Next(0x40) : _r.NextULong(), size));
        var regs = _controller.Registers;
        if (regs.Cc != CcEnabled || !regs.CstsRdy || regs.CstsCfs || regs.CstsShst != ShutdownStatus.Normal)
        {
            _report.ControllerResets++;
            Write32(NvmeRegisters.CcOffset, 0);
            if (regs.Csts != 0) Fail($"CSTS 0x{regs.Csts:x} after reset");
            Setup();
        }
    }
}
