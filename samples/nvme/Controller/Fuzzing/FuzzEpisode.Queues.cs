using System.Buffers.Binary;

namespace ShadowIo.Samples.Nvme;

/// <summary>The fuzzing host driver: submitting entries and ringing doorbells the way Linux does.</summary>
internal sealed partial class FuzzEpisode
{
    private ModelSq? RandomIoQueue()
    {
        int start = _r.Next(1, NvmeRegisters.QueueCount);
        for (int i = 0; i < NvmeRegisters.QueueCount - 1; i++)
        {
            var sq = _sqs[1 + (start - 1 + i) % (NvmeRegisters.QueueCount - 1)];
            if (sq is not null) return sq;
        }
        return null;
    }

    private void SubmitIo()
    {
        var sq = RandomIoQueue();
        if (sq is null)
        {
            SubmitAdmin();
            return;
        }
        for (int i = _r.Next(1, 5); i > 0; i--)
        {
            var (entry, good) = _generator.Io();
            if (!Submit(sq, entry, good)) break;
        }
        Ring(sq, sq.Tail);
    }

    private void SubmitAdmin()
    {
        var admin = _sqs[0];
        if (admin is null) return;
        var (entry, good) = _generator.Admin(q => _cqs[q] is not null, q => _sqs[q] is not null, dbbufAllowed: true);
        // A queue that may be created gets a clean ring first (the host driver zeroes its rings).
        int qid = (int)(entry.Cdw10 & 0xFFFF);
        if (entry.Opcode == (byte)AdminOpcode.CreateIoCompletionQueue && qid is > 0 and < NvmeRegisters.QueueCount && _cqs[qid] is null && entry.Prp1 == FuzzLayout.Cq(qid))
        {
            _ram.At(FuzzLayout.Cq(qid), FuzzLayout.MaxIoEntries * CompletionEntry.Size).Clear();
            ClearShadow(qid, tail: false);
        }
        if (entry.Opcode == (byte)AdminOpcode.CreateIoSubmissionQueue && qid is > 0 and < NvmeRegisters.QueueCount && _sqs[qid] is null && entry.Prp1 == FuzzLayout.Sq(qid))
        {
            _ram.At(FuzzLayout.Sq(qid), FuzzLayout.MaxIoEntries * SubmissionEntry.Size).Clear();
            ClearShadow(qid, tail: true);
        }
        if (Trace) Console.WriteLine($"  submit admin 0x{entry.Opcode:x2}: {Describe(entry)}");
        if (Submit(admin, entry, good)) Ring(admin, admin.Tail);
    }

    /// <summary>Writes one entry at the tail unless the queue is full. Returns whether it was written.</summary>
    private bool Submit(ModelSq sq, SubmissionEntry entry, bool mustSucceed)
    {
        int head = _controller.SubmissionQueueHead(sq.Id);
        if (head < 0 || (sq.Tail + 1) % sq.Size == head) return false;
        ushort cid = sq.NextCommandId++;
        entry.Cdw0 = (entry.Cdw0 & 0xFFFF) | ((uint)cid << 16);
        WriteEntry(_ram.At(sq.Address + (ulong)sq.Tail * SubmissionEntry.Size, SubmissionEntry.Size), in entry);
        sq.Slots[sq.Tail] = new FuzzSlot { Entry = entry, MustSucceed = mustSucceed, Action = _action };
        sq.Tail = (sq.Tail + 1) % sq.Size;
        _report.CommandsSubmitted++;
        return true;
    }

    private static void WriteEntry(Span<byte> d, in SubmissionEntry e)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(d, e.Cdw0);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], e.Nsid);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], e.Cdw2);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], e.Cdw3);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], e.Mptr);
        BinaryPrimitives.WriteUInt64LittleEndian(d[24..], e.Prp1);
        BinaryPrimitives.WriteUInt64LittleEndian(d[32..], e.Prp2);
        BinaryPrimitives.WriteUInt32LittleEndian(d[40..], e.Cdw10);
        BinaryPrimitives.WriteUInt32LittleEndian(d[44..], e.Cdw11);
        BinaryPrimitives.WriteUInt32LittleEndian(d[48..], e.Cdw12);
        BinaryPrimitives.WriteUInt32LittleEndian(d[52..], e.Cdw13);
        BinaryPrimitives.WriteUInt32LittleEndian(d[56..], e.Cdw14);
        BinaryPrimitives.WriteUInt32LittleEndian(d[60..], e.Cdw15);
    }

    private Span<byte> ShadowSlot(ulong page, int offset) => _ram.At(page + (ulong)offset, 4);

    /// <summary>
    /// Publishes an SQ tail: MMIO for the admin queue or without dbbuf; with dbbuf, Linux's
    /// nvme_dbbuf_update_and_check_event: store in the shadow, then ring only if EventIdx says so.
    /// </summary>
    private void Ring(ModelSq sq, int value)
    {
        int offset = 8 * sq.Id;
        if (Trace) Console.WriteLine($"  ring SQ {sq.Id} = {value}");
        if (value < sq.Size) sq.PublishedTail = value;
        if (_dbbuf && sq.Id != 0)
        {
            int old = sq.PublishedTailForRule;
            sq.PublishedTailForRule = value;
            BinaryPrimitives.WriteUInt32LittleEndian(ShadowSlot(FuzzLayout.ShadowPage, offset), (uint)value);
            ushort ei = (ushort)BinaryPrimitives.ReadUInt32LittleEndian(ShadowSlot(FuzzLayout.EventIdxPage, offset));
            bool ring = (ushort)(value - ei - 1) < (ushort)(value - old) || _r.Chance(10);
            if (Trace) Console.WriteLine($"    shadow {value} old {old} ei {ei} mmio {ring}");
            if (ring) Write32(0x1000 + (ulong)offset, (uint)value);
            return;
        }
        Write32(0x1000 + (ulong)offset, (uint)value);
    }

    private void RingCompletionHead(ModelCq cq)
    {
        int offset = 8 * cq.Id + 4;
        cq.PublishedHead = cq.Head;
        if (_dbbuf && cq.Id != 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(ShadowSlot(FuzzLayout.ShadowPage, offset), (uint)cq.Head);
            if (!_r.Chance(70)) return; // Often no MMIO at all: the controller reads the shadow when it needs room.
        }
        Write32(0x1000 + (ulong)offset, (uint)cq.Head);
    }

    private bool RingCompletionHeads(bool force)
    {
        bool rang = false;
        foreach (var cq in _cqs)
        {
            if (cq is not null && cq.Head != cq.PublishedHead && (force || _r.Chance(70)))
            {
                RingCompletionHead(cq);
                rang = true;
            }
        }
        return rang;
    }

    private void RingRandomQueue()
    {
        var sq = _r.Chance(30) ? _sqs[0] : RandomIoQueue();
        if (sq is not null) Ring(sq, sq.Tail);
    }

    /// <summary>A doorbell write the controller must ignore and report: no such queue, or value ≥ size.</summary>
    private void InvalidDoorbell()
    {
        _report.InvalidDoorbellWrites++;
        int qid = _r.Next(NvmeRegisters.QueueCount);
        bool tail = _r.Chance(50);
        int size = tail ? _sqs[qid]?.Size ?? 0 : _cqs[qid]?.Size ?? 0;
        uint value = size == 0 ? (uint)_r.Next(0x1_0000) : (uint)size + (_r.Chance(50) ? 0 : _r.NextUInt() % (uint.MaxValue - (uint)size));
        int offset = 8 * qid + (tail ? 0 : 4);
        if (_dbbuf && qid != 0) BinaryPrimitives.WriteUInt32LittleEndian(ShadowSlot(FuzzLayout.ShadowPage, offset), value);
        long fetched = _controller.Counters.CommandsFetched;
        long before = _controller.Counters.InvalidDoorbellWrites;
        Write32(0x1000 + (ulong)offset, value);
        if (_controller.Counters.InvalidDoorbellWrites != before + 1) Fail($"invalid doorbell (queue {qid} {(tail ? "tail" : "head")} = {value}) not reported");
        if (_controller.Counters.CommandsFetched != fetched) Fail($"invalid doorbell (queue {qid} = {value}) fetched commands");
        _lastInvalidDoorbells = _controller.Counters.InvalidDoorbellWrites;
    }

    /// <summary>
    /// A valid but arbitrary I/O SQ tail: the controller runs whatever the slots hold (old commands
    /// again, zeroed slots). Not on the admin queue: replaying old Create/Delete commands would
    /// change queues under the model's feet, which tests the model rather than the controller.
    /// </summary>
    private void ChaosTail()
    {
        var sq = RandomIoQueue();
        if (sq is null) return;
        _report.ChaosDoorbellWrites++;
        sq.TailRewound = true;
        Ring(sq, _r.Next(sq.Size));
    }
}
