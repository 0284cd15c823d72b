using System.Buffers.Binary;
using System.Text;

namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// DMA confinement and namespace attribution. The controller reports each command it fetches
/// (<see cref="NvmeController.CommandFetched"/>); at that moment the host walks the command's
/// PRPs itself (<see cref="ModelPrps"/>), over RAM exactly as the controller is about to walk it.
/// Every namespace access must then be the running command's own (its opcode, its SLBA..SLBA+NLB,
/// a Write's data equal to its own PRP pages), and after every input guest RAM must equal the
/// host's copy (<see cref="ExpectedGuestRam"/>) once the writes the fetched commands allowed are
/// applied: a Read's data in its PRP pieces (exactly the bytes read), Identify / Get Log Page
/// data in theirs, completions in the CQ slots reaped, EventIdx and written-back doorbell values
/// in their slots of the Doorbell Buffer Config pages. Nothing else may change.
/// </summary>
internal sealed partial class FuzzEpisode
{
    /// <summary>One command the controller fetched since the last check, and what it may touch.</summary>
    private sealed class FetchedCommand(int sqId, int slot, in SubmissionEntry entry)
    {
        public readonly int SqId = sqId;
        public readonly int Slot = slot;
        public readonly SubmissionEntry Entry = entry;

        /// <summary>The transfer's pieces as the host reads the PRPs (valid only with <see cref="PrpsValid"/>).</summary>
        public readonly List<(ulong Address, int Length)> Segments = [];

        /// <summary>The command moves data and the spec accepts its PRPs for that length.</summary>
        public bool PrpsValid;

        public bool TouchedNamespace;

        /// <summary>A Read's first piece outside RAM: the controller stops there with Data Transfer Error.</summary>
        public int FirstUnreachableSegment = -1;

        public NvmeStatus? Status;
    }

    private readonly List<FetchedCommand> _fetched = [];
    private readonly List<FetchedCommand> _fetchedSinceCompare = [];
    private FetchedCommand? _executing;

    // Since the last check: the queues that existed at some point (bit = queue id), whether guest-shadow
    // mode was on, and whether Doorbell Buffer Config switched to new pages.
    private uint _sqsInWindow, _cqsInWindow;
    private bool _dbbufInWindow;
    private bool _dbbufNewPagesInWindow;
    private bool _redZoneReported;

    /// <summary>
    /// Tests only: runs inside each namespace access, on the controller's thread, so whatever it
    /// does to RAM looks like the controller's own doing (to prove the checks catch it).
    /// </summary>
    internal Action<NamespaceAccess>? DuringNamespaceAccess { get; init; }

    private void OnCommandFetched(int sqId, int slot, in SubmissionEntry command)
    {
        var fetched = new FetchedCommand(sqId, slot, in command);
        _fetched.Add(fetched);
        _executing = fetched;
        if ((uint)sqId >= NvmeRegisters.QueueCount || _sqs[sqId] is not { } sq || slot >= sq.Size)
        {
            Fail($"controller fetched {Describe(fetched)} from a queue or slot the host has not created");
            return;
        }
        // The controller must have read that slot of that ring, nothing else.
        var ring = _image.Read(sq.Address + (ulong)slot * SubmissionEntry.Size, SubmissionEntry.Size);
        Span<byte> ran = stackalloc byte[SubmissionEntry.Size];
        WriteEntry(ran, in command);
        if (!ring.SequenceEqual(ran))
            Fail($"controller ran {Describe(fetched)}, which is not the entry in SQ {sqId} slot {slot}");
        int bytes = TransferBytes(sqId, in command);
        fetched.PrpsValid = bytes > 0 && ModelPrps.TryWalk(_image, command.Prp1, command.Prp2, bytes, fetched.Segments);
    }

    /// <summary>
    /// How many bytes the command moves through its PRPs if it runs: a Read or Write its NLB blocks,
    /// Identify one 4 KiB structure (5.17), Get Log Page NUMD dwords (5.16); 0 past MDTS (refused).
    /// </summary>
    private int TransferBytes(int sqId, in SubmissionEntry e)
    {
        ulong bytes = 0;
        if (sqId != 0 && e.Opcode is (byte)IoOpcode.Read or (byte)IoOpcode.Write)
            bytes = ((e.Cdw12 & 0xFFFF) + 1UL) * BlockSize;
        else if (sqId == 0 && e.Opcode == (byte)AdminOpcode.Identify)
            bytes = IdentifyData.Size;
        else if (sqId == 0 && e.Opcode == (byte)AdminOpcode.GetLogPage)
            bytes = ((((ulong)e.Cdw11 & 0xFFFF) << 16) | (e.Cdw10 >> 16)) * 4 + 4;
        return bytes <= (ulong)_controller.Options.MaxTransferBytes ? (int)bytes : 0;
    }

    /// <summary>A namespace access, as it happens: it must be the running command's own.</summary>
    private void OnNamespaceAccess(NamespaceAccess access, long offset, long length, ReadOnlySpan<byte> data)
    {
        DuringNamespaceAccess?.Invoke(access);
        string range = $"bytes [{offset}, {offset + length})";
        if (_executing is not { } command)
        {
            Fail($"namespace {access} of {range} with no command running");
            return;
        }
        if (command.TouchedNamespace)
        {
            Fail($"a second namespace {access} ({range}) by {Describe(command)}");
            return;
        }
        command.TouchedNamespace = true;
        var opcode = access switch
        {
            NamespaceAccess.Read => IoOpcode.Read,
            NamespaceAccess.Write => IoOpcode.Write,
            _ => IoOpcode.WriteZeroes,
        };
        if (command.SqId == 0 || command.Entry.Opcode != (byte)opcode)
        {
            Fail($"namespace {access} of {range} while {Describe(command)} runs, which is no {opcode}");
            return;
        }
        ulong slba = command.Entry.Cdw10 | ((ulong)command.Entry.Cdw11 << 32);
        ulong blocks = (command.Entry.Cdw12 & 0xFFFF) + 1UL;
        if (command.Entry.Nsid != NvmeController.NamespaceId || (ulong)offset != slba * BlockSize || (ulong)length != blocks * BlockSize)
        {
            Fail($"namespace {access} of {range} by {Describe(command)}, whose own LBA range is bytes [{slba * BlockSize}, {(slba + blocks) * BlockSize}) of namespace {command.Entry.Nsid}");
            return;
        }
        if (access == NamespaceAccess.WriteZeroes) return;
        if (!command.PrpsValid)
        {
            Fail($"namespace {access} by {Describe(command)}, whose PRPs the spec refuses (4.3)");
            return;
        }
        int at = 0;
        for (int i = 0; i < command.Segments.Count; i++)
        {
            var (address, pieceLength) = command.Segments[i];
            var piece = data.Slice(at, pieceLength);
            at += pieceLength;
            bool reachable = _image.Contains(address, pieceLength);
            if (access == NamespaceAccess.Read)
            {
                // The data goes out piece by piece in PRP order; the first piece outside RAM ends it.
                if (command.FirstUnreachableSegment >= 0) continue;
                if (reachable) _image.Expect(address, piece);
                else command.FirstUnreachableSegment = i;
                continue;
            }
            // A Write stores its own PRP pages, as they are now (just gathered).
            if (!reachable)
            {
                Fail($"namespace Write by {Describe(command)}: PRP piece 0x{address:x} is outside RAM, yet data was stored");
                return;
            }
            var source = _image.Read(address, pieceLength);
            int same = source.CommonPrefixLength(piece);
            if (same != pieceLength)
            {
                Fail($"namespace Write by {Describe(command)}: byte {at - pieceLength + same} stored is 0x{piece[same]:x2}, its PRP page holds 0x{source[same]:x2} at 0x{address + (ulong)same:x}");
                return;
            }
        }
    }

    /// <summary>Applies the writes the commands completed in this check were allowed, and starts the next window.</summary>
    private void AllowControllerWrites()
    {
        foreach (var command in _fetched) AllowDataWrites(command);
        if (_dbbufInWindow) AllowDoorbellPageWrites();

        _fetchedSinceCompare.AddRange(_fetched);
        _fetched.Clear();
        _executing = null;
        _storage.Writes.Clear();
        _sqsInWindow = ModelQueues(_sqs);
        _cqsInWindow = ModelQueues(_cqs);
        _dbbufInWindow = _dbbuf;
        _dbbufNewPagesInWindow = false;
    }

    /// <summary>
    /// Once per input (after both of its checks): all of RAM against the host's copy, and the red
    /// zones. One compare of the whole 1 MiB (about 30 µs) is most of what these checks cost.
    /// </summary>
    private void CompareRam()
    {
        if (!_image.Matches(out ulong address, out byte expected, out byte found, out int differing))
        {
            Fail($"guest RAM changed where no fetched command allowed a write: {differing} byte(s), the first at 0x{address:x} ({Where(address)}), "
                + $"0x{expected:x2} expected, 0x{found:x2} found; commands fetched in this input: {DescribeFetched()}");
            _image.Resync();
        }
        if (!_redZoneReported && !_ram.RedZonesIntact())
        {
            _redZoneReported = true;
            Fail("guest RAM red zone changed: a write landed outside guest memory");
        }
        _fetchedSinceCompare.Clear();
    }

    private void AllowDataWrites(FetchedCommand command)
    {
        var status = command.Status;
        byte opcode = command.Entry.Opcode;
        if (command.SqId != 0 && opcode is (byte)IoOpcode.Read or (byte)IoOpcode.Write or (byte)IoOpcode.WriteZeroes)
        {
            if (status == NvmeStatus.Success && !command.TouchedNamespace)
                Fail($"{Describe(command)} completed Success without touching the namespace");
            if (!command.TouchedNamespace || status is null) return;
            // An in-memory namespace never fails: once touched, only the data transfer can.
            var required = opcode == (byte)IoOpcode.Read && command.FirstUnreachableSegment >= 0 ? NvmeStatus.DataTransferError : NvmeStatus.Success;
            if (status != required) Fail($"{Describe(command)} touched the namespace and completed {status}, not {required}");
            // Pieces after the one outside RAM: a controller may have written them or not (the data is undefined on error).
            if (opcode == (byte)IoOpcode.Read && command.FirstUnreachableSegment >= 0)
            {
                for (int i = command.FirstUnreachableSegment + 1; i < command.Segments.Count; i++) _image.Accept(command.Segments[i].Address, command.Segments[i].Length);
            }
            return;
        }
        if (command.SqId == 0 && opcode is (byte)AdminOpcode.Identify or (byte)AdminOpcode.GetLogPage
            && status is NvmeStatus.Success or NvmeStatus.DataTransferError)
        {
            // PRPs the spec refuses (a list read outside RAM gives Data Transfer Error): nothing may be written.
            if (!command.PrpsValid)
            {
                if (status == NvmeStatus.Success) Fail($"{Describe(command)} completed Success, but the spec refuses its PRPs (4.3)");
                return;
            }
            // Controller data (its content is checked by the Identify and log page tests): anything, but only in its PRP pieces.
            foreach (var (address, length) in command.Segments) _image.Accept(address, length);
        }
    }

    /// <summary>
    /// Doorbell Buffer Config pages (5.8): the controller writes EventIdx slots of the I/O queues
    /// that exist; it writes the admin doorbells back to the shadow page (they stay MMIO, and QEMU
    /// does the same); on switching to new pages it seeds the I/O queues' shadow slots.
    /// </summary>
    private void AllowDoorbellPageWrites()
    {
        _image.Accept(FuzzLayout.ShadowPage, 4);
        _image.Accept(FuzzLayout.ShadowPage + 4, 4);
        for (int qid = 1; qid < NvmeRegisters.QueueCount; qid++)
        {
            ulong slot = 8 * (ulong)qid;
            if ((_sqsInWindow >> qid & 1) != 0)
            {
                // tail, or tail − 1 while polling: 0xFFFF when the tail is 0.
                AllowDoorbellValue(FuzzLayout.EventIdxPage + slot, $"SQ {qid} EventIdx", _sqs[qid]?.Size ?? FuzzLayout.MaxIoEntries, 0xFFFF);
                if (_dbbufNewPagesInWindow) AllowDoorbellValue(FuzzLayout.ShadowPage + slot, $"SQ {qid} shadow tail", _sqs[qid]?.Size ?? FuzzLayout.MaxIoEntries, null);
            }
            if ((_cqsInWindow >> qid & 1) != 0)
            {
                AllowDoorbellValue(FuzzLayout.EventIdxPage + slot + 4, $"CQ {qid} EventIdx", _cqs[qid]?.Size ?? FuzzLayout.MaxIoEntries, null);
                if (_dbbufNewPagesInWindow) AllowDoorbellValue(FuzzLayout.ShadowPage + slot + 4, $"CQ {qid} shadow head", _cqs[qid]?.Size ?? FuzzLayout.MaxIoEntries, null);
            }
        }
    }

    private void AllowDoorbellValue(ulong address, string what, int queueSize, uint? alsoAllowed)
    {
        if (!_image.Changed(address, 4)) return;
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(_image.Read(address, 4));
        if (value >= (uint)queueSize && value != alsoAllowed) Fail($"{what} written as {value}: no slot of a {queueSize}-entry queue");
        _image.Accept(address, 4);
    }

    private static uint ModelQueues<T>(T?[] queues) where T : class
    {
        uint bits = 0;
        for (int qid = 0; qid < queues.Length; qid++)
        {
            if (queues[qid] is not null) bits |= 1u << qid;
        }
        return bits;
    }

    /// <summary>Links a completion to the fetch it ends (for the writes that depend on its status).</summary>
    private void RecordStatus(int sqId, int slot, NvmeStatus status)
    {
        foreach (var command in _fetched)
        {
            if (command.SqId == sqId && command.Slot == slot && command.Status is null)
            {
                command.Status = status;
                return;
            }
        }
    }

    /// <summary>The fetches reported for <paramref name="sq"/> must be the slots its head moved over, in ring order.</summary>
    private void CheckFetchOrder(ModelSq sq, int fetched)
    {
        int k = 0;
        foreach (var command in _fetched)
        {
            if (command.SqId != sq.Id) continue;
            int slot = (sq.ControllerHead + k) % sq.Size;
            if (command.Slot != slot) Fail($"SQ {sq.Id}: fetch {k + 1} since the last check came from slot {command.Slot}, not slot {slot}");
            k++;
        }
        if (k != fetched) Fail($"SQ {sq.Id}: the head moved over {fetched} entries, but {k} commands were fetched");
    }

    private string DescribeFetched()
    {
        var fetched = _fetchedSinceCompare;
        if (fetched.Count == 0) return "none";
        var b = new StringBuilder();
        for (int i = 0; i < fetched.Count && i < 8; i++) b.Append(i == 0 ? "" : "; ").Append(Describe(fetched[i])).Append(" → ").Append(fetched[i].Status?.ToString() ?? "no completion");
        if (fetched.Count > 8) b.Append($"; and {fetched.Count - 8} more");
        return b.ToString();
    }

    private static string Describe(FetchedCommand c) =>
        $"SQ {c.SqId} slot {c.Slot} cid {c.Entry.CommandId} opcode 0x{c.Entry.Opcode:x2} ({Describe(c.Entry)})";

    /// <summary>What the fuzz layout keeps at an address, for failure messages.</summary>
    private static string Where(ulong address)
    {
        static bool In(ulong a, ulong start, ulong length) => a >= start && a - start < length;
        if (In(address, FuzzLayout.AdminSq, 0x1000)) return $"admin SQ ring, slot {(address - FuzzLayout.AdminSq) / SubmissionEntry.Size} byte {(address - FuzzLayout.AdminSq) % SubmissionEntry.Size}";
        if (In(address, FuzzLayout.AdminCq, 0x1000)) return $"admin CQ ring, slot {(address - FuzzLayout.AdminCq) / CompletionEntry.Size} byte {(address - FuzzLayout.AdminCq) % CompletionEntry.Size}";
        for (int qid = 1; qid < NvmeRegisters.QueueCount; qid++)
        {
            if (In(address, FuzzLayout.Sq(qid), 0x1000)) return $"SQ {qid} ring, slot {(address - FuzzLayout.Sq(qid)) / SubmissionEntry.Size} byte {(address - FuzzLayout.Sq(qid)) % SubmissionEntry.Size}";
            if (In(address, FuzzLayout.Cq(qid), 0x1000)) return $"CQ {qid} ring, slot {(address - FuzzLayout.Cq(qid)) / CompletionEntry.Size} byte {(address - FuzzLayout.Cq(qid)) % CompletionEntry.Size}";
        }
        if (In(address, FuzzLayout.DataStart, FuzzLayout.DataPages * 4096UL)) return $"data page {(address - FuzzLayout.DataStart) / 4096} + 0x{(address - FuzzLayout.DataStart) % 4096:x}";
        if (In(address, FuzzLayout.ListStart, FuzzLayout.ListPages * 4096UL)) return $"PRP list page {(address - FuzzLayout.ListStart) / 4096} + 0x{(address - FuzzLayout.ListStart) % 4096:x}";
        if (In(address, FuzzLayout.ShadowPage, 4096)) return $"shadow doorbell page + 0x{address - FuzzLayout.ShadowPage:x}";
        if (In(address, FuzzLayout.EventIdxPage, 4096)) return $"EventIdx page + 0x{address - FuzzLayout.EventIdxPage:x}";
        return "RAM no buffer covers";
    }
}
