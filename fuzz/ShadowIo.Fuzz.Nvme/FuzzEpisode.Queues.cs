using System.Buffers.Binary;

namespace ShadowIo.Fuzz.Nvme;

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
            _image.Clear(FuzzLayout.Cq(qid), FuzzLayout.MaxIoEntries * CompletionEntry.Size);
            ClearShadow(qid, tail: false);
        }
        if (entry.Opcode == (byte)AdminOpcode.CreateIoSubmissionQueue && qid is > 0 and < NvmeRegisters.QueueCount && _sqs[qid] is null && entry.Prp1 == FuzzLayout.Sq(qid))
        {
            _image.Clear(FuzzLayout.Sq(qid), FuzzLayout.MaxIoEntries * SubmissionEntry.Size);
            ClearShadow(qid, tail: true);
        }
        if (Trace) Console.WriteLine($"  submit admin 0x{entry.Opcode:x2}: {Describe(entry)}");
        if (Submit(admin, entry, good)) Ring(admin, admin.Tail);
    }

    /// <summary>Writes one entry at the tail unless the queue is full. Returns whether it was written.</summary>
    private bool Submit(ModelSq sq, SubmissionEntry entry, bool mustSucceed, bool prepareBuffers = true)
    {
        int head = _controller.SubmissionQueueHead(sq.Id);
        if (head < 0 || (sq.Tail + 1) % sq.Size == head) return false;
        ushort cid = sq.NextCommandId++;
        entry.Cdw0 = (entry.Cdw0 & 0xFFFF) | ((uint)cid << 16);
        Span<byte> bytes = stackalloc byte[SubmissionEntry.Size];
        WriteEntry(bytes, in entry);
        _image.Write(sq.Address + (ulong)sq.Tail * SubmissionEntry.Size, bytes);
        if (prepareBuffers) PrepareBuffers(sq.Id, in entry);
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

    private uint ReadShadowSlot(ulong page, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_image.Read(page + (ulong)offset, 4));

    private void WriteShadowSlot(int offset, uint value) => _image.WriteUInt32(FuzzLayout.ShadowPage + (ulong)offset, value);

    /// <summary>
    /// Like a driver preparing its buffers: every data page a command names gets guard bytes
    /// around the transfer (so a byte written past either end shows), and a Write's transfer a
    /// payload of its own (so its namespace write can be told from any other command's); a
    /// Read's transfer gets guard bytes the data must replace. Only pages of the data area:
    /// hostile PRPs may name rings or lists, which stay as the host wrote them.
    /// </summary>
    private void PrepareBuffers(int sqId, in SubmissionEntry entry)
    {
        int bytes = TransferBytes(sqId, in entry);
        if (bytes == 0 || !ModelPrps.TryWalk(_image, entry.Prp1, entry.Prp2, bytes, _bufferSegments)) return;
        bool write = sqId != 0 && entry.Opcode == (byte)IoOpcode.Write;
        // Each Write's payload starts at its own offset of a fixed pseudo-random table.
        int payload = (int)(++_payloadSerial * 61 % PayloadTable.Length / 2);
        int at = 0;
        foreach (var (address, length) in _bufferSegments)
        {
            ulong page = address & ~0xFFFUL;
            if (page < FuzzLayout.DataStart || page >= FuzzLayout.DataStart + FuzzLayout.DataPages * 0x1000UL || address + (ulong)length > page + 0x1000) continue;
            _image.FillGuard(page, (int)(address - page));
            _image.FillGuard(address + (ulong)length, (int)(page + 0x1000 - address - (ulong)length));
            if (!write)
            {
                _image.FillGuard(address, length);
                continue;
            }
            _image.Write(address, PayloadTable.AsSpan((payload + at) % (PayloadTable.Length / 2), length));
            at += length;
        }
    }

    /// <summary>Write payloads: 16 KiB of xorshift bytes, so any 4 KiB window of it is unlike any other.</summary>
    private static readonly byte[] PayloadTable = MakePayloadTable();

    private static byte[] MakePayloadTable()
    {
        var table = new byte[16 * 1024];
        uint x = 0x2545_F491;
        for (int i = 0; i < table.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            table[i] = (byte)x;
        }
        return table;
    }

    private readonly List<(ulong Address, int Length)> _bufferSegments = [];
    private uint _payloadSerial;

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
            WriteShadowSlot(offset, (uint)value);
            ushort ei = (ushort)ReadShadowSlot(FuzzLayout.EventIdxPage, offset);
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
        cq.VisibleHead = cq.Head;
        if (_dbbuf && cq.Id != 0)
        {
            WriteShadowSlot(offset, (uint)cq.Head);
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
        if (_dbbuf && qid != 0) WriteShadowSlot(offset, value);
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
