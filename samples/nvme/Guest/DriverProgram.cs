using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// Assembles the guest's NVMe host driver: 64-bit code that runs at CPL3 with no operating
/// system (on this PVM host ring-3 code runs natively, ring-0 code is emulated), so it only
/// touches identity-mapped RAM and the controller's BAR0, and leaves with <c>out</c>.
/// </summary>
/// <remarks>
/// A program is a sequence of steps (enable the controller, run a queue job) followed by the
/// finish marker. The guest keeps every statistic in guest memory (<see cref="GuestStatistics"/>)
/// and every queue's tail, head and phase in its state words, so a workload can be split into
/// several runs (one per measured phase) that continue where the previous one stopped.
///
/// Registers while a job runs: rbp = BAR0, r8 = statistics block, rbx = next prepared entry,
/// r10d = SQ tail, r11d = CQ head, r12d = expected phase, r13 = submitted, r14 = completed,
/// r15 = in flight; rax, rcx, rdx, rsi, rdi are scratch.
/// </remarks>
internal sealed class DriverProgram
{
    // NVMe 2.0 §3.1.3 controller registers.
    private const int CcOffset = 0x14;
    private const int CstsOffset = 0x1C;
    private const int AqaOffset = 0x24;
    private const int AsqOffset = 0x28;
    private const int AcqOffset = 0x30;
    private const uint CcEnable = 1u << 0;
    /// <summary>CC.IOCQES = log2(16) and CC.IOSQES = log2(64): the entry sizes this driver uses.</summary>
    private const uint CcQueueEntrySizes = 4u << 20 | 6u << 16;
    private const uint CstsReady = 1u << 0;
    private const uint CstsFatal = 1u << 1;

    // Completion entry (16 bytes, spec figure 90): dword 3 holds CID (15:0), phase (16), status (31:17).
    private const int CompletionEntrySize = 16;
    private const int CompletionCommandIdOffset = 12;
    private const int CompletionStatusOffset = 14;

    private readonly Assembler _asm = new(64);
    private readonly ulong _bar;
    private readonly ulong _statistics;
    private readonly byte _finishPort;
    private Label _finish;

    /// <param name="bar">Guest-physical address of the controller's BAR0.</param>
    /// <param name="statistics">Where the guest keeps <see cref="GuestStatistics"/>.</param>
    /// <param name="finishPort">The port whose <c>out</c> ends the run.</param>
    /// <param name="timeoutTscTicks">How long the guest waits for one completion before giving up.</param>
    public DriverProgram(ulong bar, ulong statistics, byte finishPort, ulong timeoutTscTicks)
    {
        _bar = bar;
        _statistics = statistics;
        _finishPort = finishPort;
        TimeoutTscTicks = timeoutTscTicks;
        _finish = _asm.CreateLabel("finish");

        _asm.mov(rbp, bar);
        _asm.mov(r8, statistics);
        ReadTsc();
        _asm.mov(__qword_ptr[r8 + GuestStatistics.StartTscOffset], rax);
    }

    public ulong TimeoutTscTicks { get; }

    /// <summary>
    /// Programs the admin queue (AQA, then ASQ and ACQ with one 64-bit store each, which NVMe 2.0
    /// §3.1 allows for 64-bit registers: one exit instead of two), sets CC.EN with 64-byte SQ and 16-byte CQ entries, and
    /// polls CSTS until RDY (NVMe 2.0 §3.5.1 controller initialization).
    /// </summary>
    public void EnableController(ulong adminSubmissionQueue, ulong adminCompletionQueue, int adminEntries, int maxReadyPolls)
    {
        uint aqa = (uint)(adminEntries - 1) << 16 | (uint)(adminEntries - 1);
        _asm.mov(__dword_ptr[rbp + AqaOffset], aqa);
        _asm.mov(rax, adminSubmissionQueue);
        _asm.mov(__qword_ptr[rbp + AsqOffset], rax);
        _asm.mov(rax, adminCompletionQueue);
        _asm.mov(__qword_ptr[rbp + AcqOffset], rax);
        _asm.mov(__dword_ptr[rbp + CcOffset], CcQueueEntrySizes | CcEnable);

        var poll = _asm.CreateLabel("poll_ready");
        var ready = _asm.CreateLabel("ready");
        var fatal = _asm.CreateLabel("fatal");
        _asm.mov(ecx, maxReadyPolls);
        _asm.Label(ref poll);
        _asm.mov(eax, __dword_ptr[rbp + CstsOffset]);
        _asm.test(eax, CstsFatal);
        _asm.jnz(fatal);
        _asm.test(eax, CstsReady);
        _asm.jnz(ready);
        _asm.dec(ecx);
        _asm.jnz(poll);
        Fail(GuestFailure.ReadyTimeout);
        _asm.Label(ref fatal);
        Fail(GuestFailure.ControllerFatal);
        _asm.Label(ref ready);
    }

    /// <summary>
    /// Clears CC.EN and polls CSTS until RDY falls: a controller reset (NVMe 2.0 §3.7.2), which
    /// deletes every queue and ends Doorbell Buffer Config. The driver must recreate its queues
    /// (from zeroed memory) after enabling again.
    /// </summary>
    public void DisableController(int maxReadyPolls)
    {
        _asm.mov(__dword_ptr[rbp + CcOffset], CcQueueEntrySizes);
        var poll = _asm.CreateLabel("poll_not_ready");
        var done = _asm.CreateLabel("not_ready");
        _asm.mov(ecx, maxReadyPolls);
        _asm.Label(ref poll);
        _asm.mov(eax, __dword_ptr[rbp + CstsOffset]);
        _asm.test(eax, CstsReady);
        _asm.jz(done);
        _asm.dec(ecx);
        _asm.jnz(poll);
        Fail(GuestFailure.ReadyTimeout);
        _asm.Label(ref done);
    }

    /// <summary>Submits and reaps every entry of <paramref name="job"/>.</summary>
    public void Run(QueueJob job)
    {
        job.Validate();
        if (job.Count == 0) return;

        var top = _asm.CreateLabel("top");
        var submitLoop = _asm.CreateLabel("submit");
        var submitDone = _asm.CreateLabel("submitted");
        var noSqWrap = _asm.CreateLabel("no_sq_wrap");
        var skipSqRing = _asm.CreateLabel("skip_sq_ring");
        var poll = _asm.CreateLabel("poll_cq");
        var reap = _asm.CreateLabel("reap");
        var statusOk = _asm.CreateLabel("status_ok");
        var noCqWrap = _asm.CreateLabel("no_cq_wrap");
        var timedOut = _asm.CreateLabel("timed_out");
        var saveState = _asm.CreateLabel("save_state");

        // Load the queue's state words.
        _asm.mov(rdi, job.StateAddress);
        _asm.mov(r10d, __dword_ptr[rdi]);
        _asm.mov(r11d, __dword_ptr[rdi + 4]);
        _asm.mov(r12d, __dword_ptr[rdi + 8]);
        _asm.mov(rbx, job.CommandTable);
        _asm.xor(r13d, r13d);
        _asm.xor(r14d, r14d);
        _asm.xor(r15d, r15d);

        _asm.Label(ref top);
        _asm.xor(esi, esi); // set when this round submitted something

        // Fill the submission queue up to the depth: copy the prepared entry and give it a
        // command identifier unique among those in flight (its index in the job).
        _asm.Label(ref submitLoop);
        _asm.cmp(r13, job.Count);
        _asm.jae(submitDone);
        _asm.cmp(r15, job.Depth);
        _asm.jae(submitDone);
        _asm.mov(edi, r10d);
        _asm.imul(rdi, rdi, SubmissionEntries.Size);
        _asm.mov(rax, job.SubmissionQueue);
        _asm.add(rdi, rax);
        for (int offset = 0; offset < SubmissionEntries.Size; offset += 8)
        {
            _asm.mov(rax, __qword_ptr[rbx + offset]);
            _asm.mov(__qword_ptr[rdi + offset], rax);
        }
        _asm.mov(__word_ptr[rdi + 2], r13w);
        _asm.add(rbx, SubmissionEntries.Size);
        _asm.inc(r10d);
        _asm.cmp(r10d, job.Entries);
        _asm.jb(noSqWrap);
        _asm.xor(r10d, r10d);
        _asm.Label(ref noSqWrap);
        _asm.inc(r13);
        _asm.inc(r15);
        _asm.mov(esi, 1);
        _asm.jmp(submitLoop);

        // One doorbell for the whole batch, as blk-mq's last-request flag lets nvme-pci do.
        _asm.Label(ref submitDone);
        _asm.test(esi, esi);
        _asm.jz(skipSqRing);
        Ring(job, r10d, job.SubmissionDoorbellOffset, job.SubmissionShadowOffset);
        _asm.Label(ref skipSqRing);

        // Wait for the entry at the head to carry the expected phase, with a TSC deadline so a
        // controller that never answers ends the run instead of hanging it.
        ReadTsc();
        _asm.mov(rcx, TimeoutTscTicks);
        _asm.add(rcx, rax);
        _asm.Label(ref poll);
        CompletionAtHead(job);
        _asm.movzx(eax, __word_ptr[rdi + CompletionStatusOffset]);
        _asm.and(eax, 1);
        _asm.cmp(eax, r12d);
        _asm.je(reap);
        _asm.pause();
        ReadTsc();
        _asm.cmp(rax, rcx);
        _asm.jb(poll);
        _asm.jmp(timedOut);

        // Consume every completion that is ready, then ring the CQ head doorbell once.
        _asm.Label(ref reap);
        _asm.movzx(eax, __word_ptr[rdi + CompletionStatusOffset]);
        _asm.shr(eax, 1);
        _asm.jz(statusOk);
        _asm.inc(__qword_ptr[r8 + GuestStatistics.ErrorCompletionsOffset]);
        _asm.cmp(__qword_ptr[r8 + GuestStatistics.FirstErrorOffset], 0);
        _asm.jne(statusOk);
        _asm.movzx(edx, __word_ptr[rdi + CompletionCommandIdOffset]);
        _asm.shl(eax, 16);
        _asm.or(eax, edx);
        _asm.mov(__qword_ptr[r8 + GuestStatistics.FirstErrorOffset], rax);
        _asm.Label(ref statusOk);
        _asm.inc(__qword_ptr[r8 + GuestStatistics.CompletionsOffset]);
        _asm.inc(r14);
        _asm.dec(r15);
        _asm.inc(r11d);
        _asm.cmp(r11d, job.Entries);
        _asm.jb(noCqWrap);
        _asm.xor(r11d, r11d);
        _asm.xor(r12d, 1);
        _asm.Label(ref noCqWrap);
        CompletionAtHead(job);
        _asm.movzx(eax, __word_ptr[rdi + CompletionStatusOffset]);
        _asm.and(eax, 1);
        _asm.cmp(eax, r12d);
        _asm.je(reap);
        Ring(job, r11d, job.CompletionDoorbellOffset, job.CompletionShadowOffset);
        _asm.cmp(r14, job.Count);
        _asm.jb(top);
        _asm.jmp(saveState);

        _asm.Label(ref timedOut);
        _asm.mov(__qword_ptr[r8 + GuestStatistics.FailureOffset], (int)GuestFailure.CompletionTimeout);
        SaveState(job);
        _asm.jmp(_finish);

        _asm.Label(ref saveState);
        SaveState(job);
    }

    /// <summary>Adds the finish marker and encodes the program for <paramref name="codeAddress"/>.</summary>
    public byte[] Assemble(ulong codeAddress)
    {
        // A step may end on a label of its own (CSTS polled ready); Iced binds one label per instruction.
        _asm.nop();
        _asm.Label(ref _finish);
        ReadTsc();
        _asm.mov(__qword_ptr[r8 + GuestStatistics.EndTscOffset], rax);
        _asm.@out(_finishPort, al);
        _asm.hlt(); // not reached: the VMM stops at the out
        using var stream = new MemoryStream();
        _asm.Assemble(new StreamCodeWriter(stream), codeAddress);
        return stream.ToArray();
    }

    private void CompletionAtHead(QueueJob job)
    {
        _asm.mov(edi, r11d);
        _asm.imul(rdi, rdi, CompletionEntrySize);
        _asm.mov(rax, job.CompletionQueue);
        _asm.add(rdi, rax);
    }

    private void SaveState(QueueJob job)
    {
        _asm.mov(rdi, job.StateAddress);
        _asm.mov(__dword_ptr[rdi], r10d);
        _asm.mov(__dword_ptr[rdi + 4], r11d);
        _asm.mov(__dword_ptr[rdi + 8], r12d);
    }

    /// <summary>
    /// Announces <paramref name="value"/> (the new tail or head) as the job's policy says. The
    /// admin queue always uses MMIO: Linux skips queue 0 in Doorbell Buffer Config.
    /// </summary>
    private void Ring(QueueJob job, AssemblerRegister32 value, int doorbellOffset, int shadowOffset)
    {
        var ring = _asm.CreateLabel("ring");
        var done = _asm.CreateLabel("rung");
        bool usesDone = false;
        var policy = job.QueueId == 0 ? DoorbellPolicy.Mmio : job.Policy;
        if (policy != DoorbellPolicy.Mmio)
        {
            // Store the new value in the shadow page; the full barrier orders that store before
            // the EventIdx load (nvme_dbbuf_update_and_check_event's mb()).
            _asm.mov(rdi, job.ShadowPage + (ulong)shadowOffset);
            _asm.mov(ecx, __dword_ptr[rdi]);
            _asm.mov(__dword_ptr[rdi], value);
            _asm.mfence();
            if (policy == DoorbellPolicy.ShadowEventIdx)
            {
                // Ring only if (u16)(new - eventidx - 1) < (u16)(new - old): the controller asked
                // to be told once the value passes EventIdx (nvme_dbbuf_need_event).
                _asm.mov(rdi, job.EventIndexPage + (ulong)shadowOffset);
                _asm.mov(edx, __dword_ptr[rdi]);
                _asm.mov(esi, value);
                _asm.sub(esi, edx);
                _asm.dec(esi);
                _asm.movzx(esi, si);
                _asm.mov(eax, value);
                _asm.sub(eax, ecx);
                _asm.movzx(eax, ax);
                _asm.cmp(esi, eax);
                _asm.jb(ring);
                _asm.inc(__qword_ptr[r8 + GuestStatistics.SuppressedDoorbellsOffset]);
                _asm.jmp(done);
                usesDone = true;
            }
        }

        // The MMIO write, timed with the TSC: a trapped write costs a full exit to the VMM, an
        // ioeventfd write only the kernel's signal.
        _asm.Label(ref ring);
        _asm.lfence();
        ReadTsc();
        _asm.mov(rsi, rax);
        _asm.mov(__dword_ptr[rbp + doorbellOffset], value);
        ReadTsc();
        _asm.sub(rax, rsi);
        _asm.add(__qword_ptr[r8 + GuestStatistics.DoorbellTscTicksOffset], rax);
        _asm.inc(__qword_ptr[r8 + GuestStatistics.DoorbellWritesOffset]);
        if (usesDone)
        {
            // Iced binds a label to the next instruction, and the caller may bind its own next.
            _asm.Label(ref done);
            _asm.nop();
        }
    }

    private void Fail(GuestFailure failure)
    {
        _asm.mov(__qword_ptr[r8 + GuestStatistics.FailureOffset], (int)failure);
        _asm.jmp(_finish);
    }

    /// <summary>rax = TSC (rdx clobbered).</summary>
    private void ReadTsc()
    {
        _asm.rdtsc();
        _asm.shl(rdx, 32);
        _asm.or(rax, rdx);
    }
}
