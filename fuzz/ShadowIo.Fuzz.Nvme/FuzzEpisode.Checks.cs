namespace ShadowIo.Fuzz.Nvme;

/// <summary>The invariants checked after every fuzz input, and the final round trip.</summary>
internal sealed partial class FuzzEpisode
{
    private readonly List<(int SqId, int Slot)> _expected = [];
    private bool _internalErrorReported;
    private bool _onlyFreshFetched;
    internal static bool Trace;

    /// <summary>
    /// Checks, then lets the host consume completions and publish CQ heads; a CQ head can make the
    /// controller fetch more (SQs waiting for room), so those fetches are checked at once too.
    /// Then all of guest RAM is compared with the host's copy.
    /// </summary>
    private void Check()
    {
        Verify();
        if (RingCompletionHeads(force: false)) Verify();
        // A rewound tail stays excused until the controller has caught up with the latest one.
        foreach (var sq in _sqs)
        {
            if (sq is not null && sq.TailRewound && _controller.SubmissionQueueHead(sq.Id) == sq.PublishedTail && _controller.SubmissionQueueTail(sq.Id) == sq.PublishedTail)
                sq.TailRewound = false;
        }
        CompareRam();
    }

    private void Verify()
    {
        if (_controller.Counters.InternalErrors != 0 && !_internalErrorReported)
        {
            _internalErrorReported = true;
            Fail("controller caught an internal error: " + _controller.LastInternalError);
        }
        // The controller's own books: random identifiers collide, so collisions are allowed here.
        var books = _controller.ReadCommandAccounting();
        if (books.NeverCompleted != 0 || books.DuplicateCompletions != 0 || !books.Balances)
            Fail($"command books: {books}");
        _expected.Clear();
        _sqsInWindow |= ModelQueues(_sqs);
        _cqsInWindow |= ModelQueues(_cqs);

        // The admin queue first: its completions create and delete the queues checked next.
        if (_sqs[0] is { } admin && _cqs[0] is { } acq)
        {
            CollectFetched(admin);
            _onlyFreshFetched = _expected.TrueForAll(x => admin.Slots[x.Slot].Action == _action);
            Reap(acq);
        }
        int adminExpected = _expected.Count;
        for (int qid = 1; qid < NvmeRegisters.QueueCount; qid++)
        {
            if (_sqs[qid] is { } sq) CollectFetched(sq);
        }
        // "Must succeed" holds only when nothing older ran in this input: a stale or replayed
        // command may walk a PRP list that has since been rewritten, take a chain pointer for a
        // data page and rightly scribble over the lists of the commands that follow.
        _onlyFreshFetched = _expected.Skip(adminExpected).All(x => _sqs[x.SqId]?.Slots[x.Slot].Action == _action);
        for (int qid = 1; qid < NvmeRegisters.QueueCount; qid++)
        {
            if (_cqs[qid] is { } cq) Reap(cq);
        }
        foreach (var (sqId, slot) in _expected)
        {
            var entry = _sqs[sqId]?.Slots[slot].Entry ?? default;
            if (sqId == 0 && entry.Opcode == (byte)AdminOpcode.AsyncEventRequest) _outstandingAers.Add(entry.CommandId);
            else Fail($"command {entry.CommandId} (opcode 0x{entry.Opcode:x2}) fetched from SQ {sqId} slot {slot} never completed");
        }
        // Queues the admin commands just created also count as existing in this window.
        _sqsInWindow |= ModelQueues(_sqs);
        _cqsInWindow |= ModelQueues(_cqs);
        AllowControllerWrites();
    }

    /// <summary>Which slots the controller fetched since the last check; they must have been published.</summary>
    private void CollectFetched(ModelSq sq)
    {
        int head = _controller.SubmissionQueueHead(sq.Id);
        if (head < 0)
        {
            Fail($"SQ {sq.Id} vanished from the controller");
            _sqs[sq.Id] = null;
            return;
        }
        int fetched = (head - sq.ControllerHead + sq.Size) % sq.Size;
        if (Trace && fetched > 0) Console.WriteLine($"  SQ {sq.Id} size {sq.Size}: head {sq.ControllerHead} to {head}, published {sq.PublishedTail}, model tail {sq.Tail}, controller tail {_controller.SubmissionQueueTail(sq.Id)}, shadow {System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_ram.At(FuzzLayout.ShadowPage + 8 * (ulong)sq.Id, 4))}");
        int published = (sq.PublishedTail - sq.ControllerHead + sq.Size) % sq.Size;
        if (fetched > published && !sq.TailRewound) Fail($"SQ {sq.Id}: fetched {fetched} entries but only {published} were published");
        CheckFetchOrder(sq, fetched);
        for (int k = 0; k < fetched; k++) _expected.Add((sq.Id, (sq.ControllerHead + k) % sq.Size));
        sq.ControllerHead = head;
    }

    /// <summary>
    /// Consumes every new completion (phase tag) and matches it to a fetched command. Each is the
    /// 16 bytes at the CQ tail, in a slot the host had freed: a completion anywhere else (a slot
    /// off, over an entry the host still owns) shows as a stray write or an overrun here.
    /// </summary>
    private void Reap(ModelCq cq)
    {
        for (int guard = 0; guard < cq.Size; guard++)
        {
            ulong address = cq.Address + (ulong)cq.Head * CompletionEntry.Size;
            var c = CompletionEntry.Parse(_image.Read(address, CompletionEntry.Size));
            if (c.Phase != cq.Phase) return;
            if ((cq.Head - cq.VisibleHead + cq.Size) % cq.Size == cq.Size - 1)
                Fail($"CQ {cq.Id}: completion posted in slot {cq.Head}, which fills the queue (the host last freed up to head {cq.VisibleHead}; 4.1.2 keeps one slot empty)");
            _image.Accept(address, CompletionEntry.Size);
            cq.Head++;
            if (cq.Head == cq.Size)
            {
                cq.Head = 0;
                cq.Phase = !cq.Phase;
            }
            _report.CompletionsChecked++;
            _report.CountStatus(c.Status);
            Match(cq, c);
        }
    }

    private void Match(ModelCq cq, CompletionEntry c)
    {
        var sq = c.SqId < NvmeRegisters.QueueCount ? _sqs[c.SqId] : null;
        if (sq is null || sq.Cq != cq)
        {
            Fail($"completion on CQ {cq.Id} names SQ {c.SqId}, which does not post there");
            return;
        }
        int index = _expected.FindIndex(x => x.SqId == c.SqId && sq.Slots[x.Slot].Entry.CommandId == c.CommandId);
        if (index >= 0)
        {
            var slot = sq.Slots[_expected[index].Slot];
            RecordStatus(sq.Id, _expected[index].Slot, c.Status);
            _expected.RemoveAt(index);
            bool admin = sq.Id == 0;
            if (!StatusRules.IsAllowed(admin, slot.Entry.Opcode, c.Status))
                Fail($"{(admin ? "admin" : "I/O")} opcode 0x{slot.Entry.Opcode:x2} completed with {c.Status}, which the spec does not allow");
            if (Trace && slot.MustSucceed && slot.Action == _action && c.Status != NvmeStatus.Success && slot.Entry.Prp2 >= FuzzLayout.Base && slot.Entry.Prp2 < FuzzLayout.End - 64)
                for (int k = 0; k < 8; k++) Console.WriteLine($"    list[{k}] = 0x{System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_ram.At(slot.Entry.Prp2 + 8 * (ulong)k, 8)):x}");
            if (slot.MustSucceed && slot.Action == _action && _onlyFreshFetched && c.Status != NvmeStatus.Success)
                Fail($"{(admin ? "admin" : "I/O")} opcode 0x{slot.Entry.Opcode:x2} built to be valid completed with {c.Status} ({Describe(slot.Entry)})");
            if (admin && c.Status == NvmeStatus.Success) ApplyAdminEffect(in slot.Entry, c);
            return;
        }
        if (c.SqId == 0 && _outstandingAers.Remove(c.CommandId))
        {
            CheckAsyncEvent(c);
            return;
        }
        Fail($"completion for SQ {c.SqId} command {c.CommandId} matches no fetched command (duplicate or invented)");
    }

    private void CheckAsyncEvent(CompletionEntry c)
    {
        _report.AsyncEventsSeen++;
        var e = AsyncEvent.Parse(c.Result);
        if (c.Status != NvmeStatus.Success || e.Type != AsyncEventType.ErrorStatus || e.Info > 1 || e.LogPage != (byte)LogPageId.ErrorInformation)
            Fail($"async event completion {c.Status} result 0x{c.Result:x}");
    }

    private static string Describe(in SubmissionEntry e) =>
        $"nsid {e.Nsid} prp1 0x{e.Prp1:x} prp2 0x{e.Prp2:x} cdw10 0x{e.Cdw10:x} cdw11 0x{e.Cdw11:x} cdw12 0x{e.Cdw12:x}";

    /// <summary>Keeps the model in step with admin commands that succeeded.</summary>
    private void ApplyAdminEffect(in SubmissionEntry e, CompletionEntry c)
    {
        int qid = (int)(e.Cdw10 & 0xFFFF);
        int size = (int)(e.Cdw10 >> 16) + 1;
        if (Trace) Console.WriteLine($"input {_action}: admin 0x{e.Opcode:x2} cid {e.CommandId} ok: {Describe(e)}");
        switch ((AdminOpcode)e.Opcode)
        {
            case AdminOpcode.AsyncEventRequest:
                CheckAsyncEvent(c);
                break;
            case AdminOpcode.CreateIoCompletionQueue:
                if (e.Prp1 != FuzzLayout.Cq(qid) || size > FuzzLayout.MaxIoEntries) Fail($"CQ {qid} created at 0x{e.Prp1:x} size {size}: outside the model's rings");
                _cqs[qid] = new ModelCq(qid, e.Prp1, size);
                GuardRingTail(e.Prp1, size * CompletionEntry.Size);
                break;
            case AdminOpcode.CreateIoSubmissionQueue:
            {
                int cqid = (int)(e.Cdw11 >> 16);
                if (e.Prp1 != FuzzLayout.Sq(qid) || size > FuzzLayout.MaxIoEntries) Fail($"SQ {qid} created at 0x{e.Prp1:x} size {size}: outside the model's rings");
                if (_cqs[cqid] is not { } cq)
                {
                    Fail($"SQ {qid} created on CQ {cqid}, which does not exist");
                    return;
                }
                _sqs[qid] = new ModelSq(qid, e.Prp1, size, cq);
                GuardRingTail(e.Prp1, size * SubmissionEntry.Size);
                break;
            }
            case AdminOpcode.DeleteIoSubmissionQueue:
                _expected.RemoveAll(x => x.SqId == qid);
                _sqs[qid] = null;
                break;
            case AdminOpcode.DeleteIoCompletionQueue:
                if (Array.Exists(_sqs, s => s is not null && s.Cq.Id == qid)) Fail($"CQ {qid} deleted while an SQ still uses it");
                _cqs[qid] = null;
                break;
            case AdminOpcode.DoorbellBufferConfig:
                _report.DoorbellBufferConfigs++;
                // New pages get every existing queue's slots seeded; the same pages again only the admin ones.
                _dbbufNewPagesInWindow |= !_dbbuf;
                _dbbufInWindow = true;
                _dbbuf = true;
                foreach (var sq in _sqs)
                {
                    if (sq is not null) sq.PublishedTailForRule = sq.PublishedTail;
                }
                foreach (var cq in _cqs)
                {
                    if (cq is not null) cq.PublishedHead = -1;
                }
                break;
            default:
                break;
        }
    }

    /// <summary>Guard bytes after a new ring's last slot, to the end of its page: a write one slot past the ring shows.</summary>
    private void GuardRingTail(ulong ring, int ringBytes)
    {
        if (ringBytes < 0x1000) _image.FillGuard(ring + (ulong)ringBytes, 0x1000 - ringBytes);
    }

    /// <summary>After everything: reset, bring up one queue pair, and a Write + Read must round-trip.</summary>
    private void RoundTrip()
    {
        _action++;
        Write32(NvmeRegisters.CcOffset, 0);
        Setup();
        var sq = RandomIoQueue();
        if (sq is null)
        {
            ClearRings(1);
            SubmitAndCheck(AdminEntry(AdminOpcode.CreateIoCompletionQueue, FuzzLayout.Cq(1), 1 | 15u << 16, 1));
            SubmitAndCheck(AdminEntry(AdminOpcode.CreateIoSubmissionQueue, FuzzLayout.Sq(1), 1 | 15u << 16, 1 | 1u << 16));
            sq = _sqs[1];
            if (sq is null)
            {
                Fail("could not create an I/O queue pair after reset");
                return;
            }
        }
        int blocks = _r.Next(1, 33);
        ulong slba = (ulong)_r.Next(NamespaceBytes / BlockSize - blocks);
        int bytes = blocks * BlockSize;
        var pattern = new byte[bytes];
        for (int i = 0; i < bytes; i++) pattern[i] = (byte)(_r.NextUInt() | 1);
        ulong writeBuffer = FuzzLayout.DataStart, readBuffer = FuzzLayout.DataStart + 0x2_0000;
        ulong list = FuzzLayout.ListStart + 23 * 0x1000UL;
        _image.Write(writeBuffer, pattern);
        _image.Clear(readBuffer, bytes);

        if (!RoundTripCommand(sq, IoOpcode.Write, slba, blocks, writeBuffer, list)) return;
        if (!RoundTripCommand(sq, IoOpcode.Read, slba, blocks, readBuffer, list + 0x800)) return;
        var stored = new byte[bytes];
        _storage.TryReadUnrecorded((long)slba * BlockSize, stored);
        if (!_ram.At(readBuffer, bytes).SequenceEqual(pattern) || !stored.AsSpan().SequenceEqual(pattern))
            Fail($"write + read of {blocks} blocks at LBA {slba} did not round-trip");
        else
            _report.RoundTrips++;
    }

    private bool RoundTripCommand(ModelSq sq, IoOpcode opcode, ulong slba, int blocks, ulong buffer, ulong list)
    {
        int bytes = blocks * BlockSize;
        int pages = (bytes + 4095) / 4096;
        ulong prp2 = 0;
        if (pages == 2) prp2 = buffer + 0x1000;
        else if (pages > 2)
        {
            for (int i = 1; i < pages; i++) _image.WriteUInt64(list + 8 * (ulong)(i - 1), buffer + (ulong)i * 0x1000);
            prp2 = list;
        }
        var e = new SubmissionEntry
        {
            Cdw0 = (byte)opcode, Nsid = NvmeController.NamespaceId, Prp1 = buffer, Prp2 = prp2,
            Cdw10 = (uint)slba, Cdw11 = (uint)(slba >> 32), Cdw12 = (uint)blocks - 1,
        };
        _action++;
        if (!Submit(sq, e, mustSucceed: true, prepareBuffers: false))
        {
            RingCompletionHeads(force: true);
            Guard(() => _controller.Poll());
            Check();
            if (!Submit(sq, e, mustSucceed: true, prepareBuffers: false))
            {
                Fail("round trip: SQ stayed full");
                return false;
            }
        }
        long failures = _report.FailureCount;
        long completions = _report.CompletionsChecked;
        // The host frees its CQ first (a full CQ rightly holds the command back), then rings.
        RingCompletionHeads(force: true);
        Ring(sq, sq.Tail);
        Guard(() => _controller.Poll());
        Check();
        if (_report.CompletionsChecked == completions) Fail($"round trip {opcode} never completed");
        return _report.FailureCount == failures;
    }
}
