namespace ShadowIo.Devices.Nvme;

/// <summary>
/// Doorbells and queue processing: where a doorbell's value is read, validation (section 3.1.24:
/// a value outside the queue, or a queue that does not exist, is ignored and reported with an
/// asynchronous event), fetching commands, posting completions, and the shadow doorbell /
/// EventIdx protocol of Doorbell Buffer Config.
/// </summary>
public sealed partial class NvmeController
{
    private ShadowRegion _guestShadow;
    private ShadowRegion _eventIdx;
    private NvmeRegisters.DoorbellReader _guestReader;
    private DoorbellBufferPages _activePages;

    /// <summary>A doorbell value that came through MMIO dispatch: keep it where readers look.</summary>
    private void StoreMmioDoorbell(int row, uint value)
    {
        if ((uint)row >= (uint)NvmeRegisters.DoorbellTable.Count) return;
        ref readonly var entry = ref NvmeRegisters.DoorbellTable[row];
        _doorbellSource.WriteUInt32(entry.ShadowOffset, value);
        // The admin queue keeps MMIO doorbells even in guest-shadow mode; like QEMU, write its
        // values back to the shadow page for drivers that read them there.
        if (IsDoorbellBufferActive && entry.Element == 0) _guestShadow.WriteUInt32(entry.ShadowOffset, value);
    }

    private void HandleDoorbell(int row)
    {
        Counters.DoorbellsProcessed++;
        if ((uint)row >= (uint)NvmeRegisters.DoorbellTable.Count || !IsReady) return;
        // The generated table names the row: which array (SQ tail or CQ head) and which queue.
        bool isTail = (uint)(row - NvmeRegisters.DoorbellIndex.SqTail) < NvmeRegisters.DoorbellIndex.SqTailCount;
        int qid = NvmeRegisters.DoorbellTable[row].Element;
        if (isTail)
        {
            var sq = _submissionQueues[qid];
            if (sq is null)
            {
                ReportInvalidDoorbell(qid, AsyncErrorInfo.InvalidDoorbellRegister);
                return;
            }
            uint tail = ReadSqTail(qid);
            if (tail >= (uint)sq.Size)
            {
                ReportInvalidDoorbell(qid, AsyncErrorInfo.InvalidDoorbellWriteValue);
                return;
            }
            sq.Tail = (int)tail;
            ProcessSubmissionQueue(sq);
        }
        else
        {
            var cq = _completionQueues[qid];
            if (cq is null)
            {
                ReportInvalidDoorbell(qid, AsyncErrorInfo.InvalidDoorbellRegister);
                return;
            }
            uint head = ReadCqHead(qid);
            if (!IsValidHead(cq, head))
            {
                ReportInvalidDoorbell(qid, AsyncErrorInfo.InvalidDoorbellWriteValue);
                return;
            }
            cq.Head = (int)head;
            ResumeAfterCompletionSpace(cq);
        }
    }

    private void PollQueues()
    {
        if (!IsReady) return;
        foreach (var cq in _completionQueues)
        {
            if (cq is null) continue;
            uint head = ReadCqHead(cq.Id);
            if (IsValidHead(cq, head)) cq.Head = (int)head;
        }
        foreach (var sq in _submissionQueues)
        {
            if (sq is null) continue;
            uint tail = ReadSqTail(sq.Id);
            if (tail >= (uint)sq.Size) continue; // Polling cannot tell that a bad value was rung: ignore it.
            sq.Tail = (int)tail;
            ProcessSubmissionQueue(sq);
        }
        DeliverAsyncEvents();
    }

    private bool UsesGuestShadow(int qid) => IsDoorbellBufferActive && qid != 0;

    private uint ReadSqTail(int qid) => UsesGuestShadow(qid) ? _guestReader.SqTail(qid) : _sourceReader.SqTail(qid);

    private uint ReadCqHead(int qid) => UsesGuestShadow(qid) ? _guestReader.CqHead(qid) : _sourceReader.CqHead(qid);

    /// <summary>
    /// Fetches and executes commands up to the tail, then interrupts once for all it posted (QEMU's
    /// nvme does the same: one assert after posting what is ready). An interrupt per entry costs a
    /// TCG guest an interrupt it has mostly nothing left to do in: its handler reaps every entry
    /// already posted.
    /// </summary>
    private void ProcessSubmissionQueue(SubmissionQueue sq)
    {
        DrainSubmissionQueue(sq);
        SignalPosted(sq.CompletionQueue);
    }

    /// <summary>
    /// Every fetched command completes before the next is fetched (AERs excepted), and nothing is
    /// fetched without room in the CQ, so every fetched command completes exactly once.
    /// </summary>
    private void DrainSubmissionQueue(SubmissionQueue sq)
    {
        if (!IsReady) return;
        while (true)
        {
            while (!sq.IsEmpty && IsReady && _submissionQueues[sq.Id] == sq)
            {
                if (!HasCompletionSpace(sq.CompletionQueue)) return;
                ExecuteNext(sq);
            }
            if (!UsesGuestShadow(sq.Id) || !IsReady || _submissionQueues[sq.Id] != sq) return;

            // Shadow doorbells: publish how far we got, then look again, because the guest may
            // have added entries after we read the tail and, seeing the old EventIdx, not rung.
            WriteSqEventIdx(sq);
            Interlocked.MemoryBarrier();
            uint tail = _guestReader.SqTail(sq.Id);
            if (tail >= (uint)sq.Size || (int)tail == sq.Tail) return;
            sq.Tail = (int)tail;
            Counters.ShadowRereadHits++;
        }
    }

    /// <summary>
    /// Polling ends: EventIdx = tail again (tail − 1 would keep a Linux guest from ever ringing),
    /// then one last look for work published while EventIdx still said "don't ring".
    /// </summary>
    private void StopPolling()
    {
        if (!IsDoorbellBufferActive || !IsReady) return;
        foreach (var sq in _submissionQueues)
        {
            if (sq is not null && sq.Id != 0) WriteSqEventIdx(sq);
        }
        Interlocked.MemoryBarrier();
        PollQueues();
    }

    /// <summary>
    /// EventIdx for an SQ: QEMU's rule (EventIdx = tail we have seen) makes a Linux guest ring
    /// once when it adds work after we caught up. A polling controller writes tail − 1 instead,
    /// which Linux's test <c>(u16)(new − ei − 1) &lt; (u16)(new − old)</c> never passes.
    /// </summary>
    private void WriteSqEventIdx(SubmissionQueue sq)
    {
        int value = (ushort)(IsPolling ? sq.Tail - 1 : sq.Tail);
        if (value == sq.PublishedEventIdx) return; // A polling thread would otherwise store on every pass.
        sq.PublishedEventIdx = value;
        _eventIdx.WriteUInt32(SqShadowOffset(sq.Id), (uint)value);
    }

    /// <summary>
    /// Whether <paramref name="cq"/> has a free slot, re-reading the host's head when it looks
    /// full. In guest-shadow mode a full CQ also arms its EventIdx so the guest rings the CQ
    /// doorbell when it frees entries (otherwise nothing would wake a waiting SQ).
    /// </summary>
    private bool HasCompletionSpace(CompletionQueue cq)
    {
        if (!cq.IsFull) return true;
        RefreshHead(cq);
        if (!cq.IsFull || !UsesGuestShadow(cq.Id)) return !cq.IsFull;
        _eventIdx.WriteUInt32(CqShadowOffset(cq.Id), (ushort)cq.Head);
        Interlocked.MemoryBarrier();
        RefreshHead(cq);
        return !cq.IsFull;
    }

    private void RefreshHead(CompletionQueue cq)
    {
        uint head = ReadCqHead(cq.Id);
        if (IsValidHead(cq, head)) cq.Head = (int)head;
    }

    /// <summary>
    /// A CQ head may only move over entries the controller has posted: a value outside the queue,
    /// or one that would consume entries not yet posted ("remove an entry from an empty CQ"), is an
    /// Invalid Doorbell Write Value (base spec, Asynchronous Event Information – Error Status).
    /// </summary>
    private static bool IsValidHead(CompletionQueue cq, uint head)
    {
        if (head >= (uint)cq.Size) return false;
        int consumed = ((int)head - cq.Head + cq.Size) % cq.Size;
        int posted = (cq.Tail - cq.Head + cq.Size) % cq.Size;
        return consumed <= posted;
    }

    /// <summary>A CQ's head moved: work that waited for room can go on.</summary>
    private void ResumeAfterCompletionSpace(CompletionQueue cq)
    {
        foreach (var sq in _submissionQueues)
        {
            if (sq is not null && sq.CompletionQueue == cq) ProcessSubmissionQueue(sq);
        }
        if (cq.Id == 0) DeliverAsyncEvents();
    }

    private void ExecuteNext(SubmissionQueue sq)
    {
        ulong address = sq.HeadAddress;
        int slot = sq.Head;
        sq.Advance();
        if (!_memory.TryRead(address, out SubmissionEntry command))
        {
            // The ring left guest RAM (the memory map changed): the command cannot be read, but it
            // was consumed, so it still completes once (under identifier 0, all we can name).
            RecordFetch(sq, 0);
            PostCompletion(sq, 0, NvmeStatus.DataTransferError, 0);
            return;
        }
        RecordFetch(sq, command.CommandId);
        CommandFetched?.Invoke(sq.Id, slot, in command);
        var outcome = sq.Id == 0 ? ExecuteAdmin(in command) : ExecuteIo(in command);
        if (outcome.Deferred)
        {
            // An AER was queued: an event may already be waiting for it.
            DeliverAsyncEvents();
            return;
        }
        if (outcome.Status != NvmeStatus.Success) _errorLog.Record(sq.Id, command.CommandId, outcome.Status, nsid: command.Nsid);
        PostCompletion(sq, command.CommandId, outcome.Status, outcome.Result);
        // A Get Log Page may have unmasked an event type: waiting events of it can go now.
        if (sq.Id == 0 && _asyncEvents.CanDeliver) DeliverAsyncEvents();
    }

    private void RecordFetch(SubmissionQueue sq, ushort commandId)
    {
        Counters.CommandsFetched++;
        Counters.CommandsOutstanding++;
        if (!sq.Outstanding.Fetched(commandId)) Counters.CommandIdCollisions++;
    }

    /// <summary>Completes a fetched command of <paramref name="sq"/>: the entry, then the books.</summary>
    private void PostCompletion(SubmissionQueue sq, ushort commandId, NvmeStatus status, uint result)
    {
        PostCompletion(sq.CompletionQueue, sq.Id, (ushort)sq.Head, commandId, status, result);
        if (sq.Outstanding.Completed(commandId)) Counters.CommandsOutstanding--;
        else Counters.DuplicateCompletions++;
    }

    /// <summary>
    /// <paramref name="sq"/> goes away (reset or deletion) with its outstanding commands, which end
    /// without completions; <paramref name="asyncEventRequests"/> of them are AERs.
    /// </summary>
    private void DiscardOutstanding(SubmissionQueue sq, int asyncEventRequests)
    {
        int count = sq.Outstanding.Count;
        Counters.CommandsDiscarded += count;
        Counters.AsyncEventRequestsDiscarded += asyncEventRequests;
        Counters.CommandsOutstanding -= count;
    }

    /// <summary>
    /// Writes one completion entry. The dword holding the phase tag goes last, after a barrier,
    /// so a host polling the phase never sees a half-written entry.
    /// </summary>
    private void PostCompletion(CompletionQueue cq, ushort sqId, ushort sqHead, ushort commandId, NvmeStatus status, uint result)
    {
        ulong address = cq.TailAddress;
        ushort field = NvmeStatusField.Encode(status, cq.Phase);
        bool written = _memory.TryWrite(address, (ulong)result)
            && _memory.TryWrite(address + 8, sqHead | ((uint)sqId << 16));
        Interlocked.MemoryBarrier();
        written &= _memory.TryWrite(address + 12, commandId | ((uint)field << 16));
        cq.Advance();
        Counters.CompletionsPosted++;
        if (!written) Counters.CompletionWriteFailures++;
        if (cq.InterruptsEnabled) cq.InterruptPending = true;
    }

    /// <summary>Requests <paramref name="cq"/>'s interrupt if entries were posted to it since the last one.</summary>
    private void SignalPosted(CompletionQueue cq)
    {
        if (!cq.InterruptPending) return;
        cq.InterruptPending = false;
        Counters.InterruptsRequested++;
        InvokeHost(InterruptRequested, cq.Vector);
    }

    private void ReportInvalidDoorbell(int qid, AsyncErrorInfo info)
    {
        Counters.InvalidDoorbellWrites++;
        _errorLog.Record((ushort)qid, 0xFFFF, NvmeStatus.Success);
        _asyncEvents.Raise(new AsyncEvent(AsyncEventType.ErrorStatus, (byte)info, (byte)LogPageId.ErrorInformation));
        DeliverAsyncEvents();
    }

    /// <summary>Completes outstanding AERs with waiting events while the admin CQ has room.</summary>
    private void DeliverAsyncEvents()
    {
        var sq = _submissionQueues[0];
        if (sq is null) return;
        while (_asyncEvents.CanDeliver && HasCompletionSpace(sq.CompletionQueue)
            && _asyncEvents.TryTakeMatch(out ushort commandId, out var e))
        {
            PostCompletion(sq, commandId, NvmeStatus.Success, e.Result);
            Counters.AsyncEventsPosted++;
        }
        SignalPosted(sq.CompletionQueue);
    }

    /// <summary>
    /// Re-derives the guest's dbbuf pages from the current memory map at every entry point, so a
    /// map change (QEMU re-sends its regions; a region is unmapped and mapped elsewhere) never
    /// leaves the controller holding a stale host pointer. Pages that are no longer RAM end
    /// guest-shadow mode; pages that moved in host memory are handed to the host again.
    /// </summary>
    private void RevalidateGuestPages()
    {
        if (!IsDoorbellBufferActive) return;
        if (_memory.TryGetShadowRegion(_activePages.ShadowAddress, PrpList.PageSize, out var shadow)
            && _memory.TryGetShadowRegion(_activePages.EventIdxAddress, PrpList.PageSize, out var eventIdx))
        {
            if (shadow.Address == _guestShadow.Address && eventIdx.Address == _eventIdx.Address) return;
            _activePages = _activePages with { Shadow = shadow, EventIdx = eventIdx };
            _guestShadow = shadow;
            _eventIdx = eventIdx;
            _guestReader = new NvmeRegisters.DoorbellReader(shadow);
            InvokeHost(DoorbellBufferReleased);
            InvokeHost(DoorbellBufferConfigured, _activePages);
            return;
        }
        DeactivateDoorbellBuffer();
    }

    /// <summary>Ends guest-shadow mode (controller reset, or the pages left guest RAM) and tells the host.</summary>
    private void DeactivateDoorbellBuffer()
    {
        if (!IsDoorbellBufferActive) return;
        IsDoorbellBufferActive = false;
        _guestShadow = default;
        _eventIdx = default;
        _guestReader = default;
        _activePages = default;
        InvokeHost(DoorbellBufferReleased);
    }

    /// <summary>Doorbell Buffer Config accepted: switch I/O queues to the guest's pages.</summary>
    private void ActivateDoorbellBuffer(DoorbellBufferPages pages)
    {
        bool samePages = IsDoorbellBufferActive && _activePages.ShadowAddress == pages.ShadowAddress && _activePages.EventIdxAddress == pages.EventIdxAddress;
        // Moving to other pages: the host lets go of the old ones first, then attaches the new.
        if (IsDoorbellBufferActive && !samePages) InvokeHost(DoorbellBufferReleased);
        _activePages = pages;
        _guestShadow = pages.Shadow;
        _eventIdx = pages.EventIdx;
        _guestReader = new NvmeRegisters.DoorbellReader(pages.Shadow);
        IsDoorbellBufferActive = true;
        // Admin values are written back (the admin queue keeps MMIO doorbells). New pages start
        // from the controller's view of existing I/O queues so the switch cannot invent work; the
        // same pages sent again are left alone, since the guest may have published tails there.
        _guestShadow.WriteUInt32(SqShadowOffset(0), (uint)(_submissionQueues[0]?.Tail ?? 0));
        _guestShadow.WriteUInt32(CqShadowOffset(0), (uint)(_completionQueues[0]?.Head ?? 0));
        if (samePages) return; // Nothing changed for the host either.
        for (int qid = 1; qid < QueueCount; qid++)
        {
            if (_submissionQueues[qid] is { } sq)
            {
                _guestShadow.WriteUInt32(SqShadowOffset(qid), (uint)sq.Tail);
                _eventIdx.WriteUInt32(SqShadowOffset(qid), (uint)sq.Tail);
                sq.PublishedEventIdx = sq.Tail;
            }
            if (_completionQueues[qid] is { } cq)
            {
                _guestShadow.WriteUInt32(CqShadowOffset(qid), (uint)cq.Head);
                _eventIdx.WriteUInt32(CqShadowOffset(qid), (uint)cq.Head);
            }
        }
        InvokeHost(DoorbellBufferConfigured, pages);
    }
}
