using System.Buffers.Binary;

namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// Drives the controller straight from fuzzer bytes, with no host model in the way: a sequence of
/// operations, each an opcode byte and its operands (short input reads as zeroes). The guest
/// writes raw submission entries (PRP fields optionally relocated into guest RAM so they point
/// somewhere real), raw bytes and PRP lists anywhere in its RAM, shadow doorbell and EventIdx
/// values, and BAR0 at any offset and width; the host side polls, processes doorbell rows, flips
/// polling and takes guest RAM out of the memory map. A few operations are conveniences a real
/// driver performs (enable, create a queue pair, Doorbell Buffer Config at the canonical pages), so
/// that coverage past the handshake does not hinge on guessing a dozen exact register values.
/// </summary>
/// <remarks>
/// Checked after every operation: no exception escaped, the controller caught no internal error
/// (each of its entry points records one as Controller Fatal Status), and at the end that guest
/// RAM's red zones are intact and every namespace write stayed inside the namespace.
/// </remarks>
internal sealed class RawControllerDriver
{
    private const uint CcEnabled = 1 | (6 << 16) | (4 << 20);
    private const int NamespaceBytes = 1 << 20;
    private const int QueueCount = NvmeRegisters.QueueCount;
    private const int MaxOperations = 4096;

    private readonly byte[] _input;
    private readonly GuestRam _ram;
    private readonly NvmeController _controller;
    private readonly int[] _tails;
    private readonly int[] _sizes;
    private int _next;

    private RawControllerDriver(byte[] input, GuestRam ram, NvmeController controller)
    {
        _input = input;
        _ram = ram;
        _controller = controller;
        _tails = new int[QueueCount];
        _sizes = new int[QueueCount];
        _sizes[0] = FuzzLayout.AdminEntries;
    }

    public static void Run(ReadOnlySpan<byte> input, GuestRam ram)
    {
        using var storage = new RecordingStorage(NamespaceBytes);
        using var controller = new NvmeController(ram.Memory, storage);
        var driver = new RawControllerDriver(input.ToArray(), ram, controller);
        var regions = ram.Memory.Regions.ToArray();
        try
        {
            for (int i = 0; i < MaxOperations && driver._next < input.Length; i++)
            {
                driver.Step(regions, i);
                driver.CheckHealthy(i);
            }
        }
        finally
        {
            ram.Memory.SetRegions(regions);
        }
        foreach (var (offset, length) in storage.Writes)
        {
            if (offset < 0 || length < 0 || offset + length > NamespaceBytes)
                throw new FuzzInvariantException($"namespace write [{offset}, +{length}) outside the {NamespaceBytes}-byte namespace");
        }
    }

    private void CheckHealthy(int operation)
    {
        if (_controller.Counters.InternalErrors != 0)
            throw new FuzzInvariantException($"operation {operation}: the controller caught an internal error: {_controller.LastInternalError}");
    }

    private void Step(GuestMemory.Region[] regions, int operation)
    {
        byte op = Byte();
        switch (op % 16)
        {
            case 0: Enable(); break;
            case 1: Mmio(write: true); break;
            case 2: Mmio(write: false); break;
            case 3: Submit(0); break;
            case 4: Submit(1 + Byte() % (QueueCount - 1)); break;
            case 5: CreatePair(); break;
            case 6: GuestWrite(); break;
            case 7: PrpList(); break;
            case 8: Shadow(); break;
            case 9: DoorbellBufferConfig(); break;
            case 10: Call(() => _controller.Poll(), operation); break;
            case 11:
            {
                int row = Byte() % (2 * QueueCount + 4) - 2;
                Call(() => _controller.ProcessDoorbell(row), operation);
                break;
            }
            case 12: Call(() => _controller.IsPolling = !_controller.IsPolling, operation); break;
            case 13: Doorbell(); break;
            case 14:
                // RAM leaves the memory map (or comes back): QEMU re-sending its regions.
                _ram.Memory.SetRegions(_ram.Memory.Regions.Length == 0 ? regions : []);
                break;
            default:
                Write(NvmeRegisters.CcOffset, 4, 0);
                Array.Clear(_tails);
                break;
        }
    }

    // ------------------------------------------------------------------ input

    private byte Byte() => _next < _input.Length ? _input[_next++] : (byte)0;

    private ushort UInt16() => (ushort)(Byte() | Byte() << 8);

    private uint UInt32() => UInt16() | (uint)UInt16() << 16;

    private ulong UInt64() => UInt32() | (ulong)UInt32() << 32;

    private ReadOnlySpan<byte> Bytes(int count)
    {
        int n = Math.Min(count, _input.Length - _next);
        var bytes = _input.AsSpan(_next, n);
        _next += n;
        return bytes;
    }

    /// <summary>A guest-physical address inside RAM from 3 bytes (a few land just outside).</summary>
    private ulong RamAddress() => FuzzLayout.Base + (UInt16() | (ulong)Byte() << 16) % (FuzzLayout.RamSize + 0x2000UL);

    // ------------------------------------------------------------------ operations

    private static void Call(Action call, int operation)
    {
        try
        {
            call();
        }
        catch (Exception e)
        {
            throw new FuzzInvariantException($"operation {operation}: exception escaped the controller", e);
        }
    }

    private void Write(ulong offset, int size, ulong value)
    {
        try
        {
            _controller.WriteMmio(offset, size, value);
        }
        catch (Exception e)
        {
            throw new FuzzInvariantException($"BAR0 write of {size} bytes at 0x{offset:x}: exception escaped the controller", e);
        }
    }

    private void Enable()
    {
        byte entries = Byte();
        int size = entries == 0 ? FuzzLayout.AdminEntries : Math.Min((int)entries, FuzzLayout.AdminEntries);
        _sizes[0] = size;
        Array.Clear(_tails);
        Write(NvmeRegisters.CcOffset, 4, 0);
        Write(NvmeRegisters.AqaOffset, 4, (uint)(size - 1) * 0x1_0001u);
        Write(NvmeRegisters.AsqOffset, 8, FuzzLayout.AdminSq);
        Write(NvmeRegisters.AcqOffset, 8, FuzzLayout.AdminCq);
        Write(NvmeRegisters.CcOffset, 4, CcEnabled);
    }

    /// <summary>BAR0 at any offset and width: the common 8 KiB block mostly, sometimes anywhere.</summary>
    private void Mmio(bool write)
    {
        byte mode = Byte();
        ulong offset = (mode & 0x80) != 0 ? UInt64() : UInt16() % 0x2100UL;
        int size = (mode & 0x7) switch { 0 => 1, 1 => 2, 2 or 3 => 4, 4 or 5 => 8, 6 => 0, _ => Byte() - 128 };
        if (write)
        {
            Write(offset, size, UInt64());
            return;
        }
        try
        {
            _controller.ReadMmio(offset, size);
        }
        catch (Exception e)
        {
            throw new FuzzInvariantException($"BAR0 read of {size} bytes at 0x{offset:x}: exception escaped the controller", e);
        }
    }

    /// <summary>A raw 64-byte entry at the queue's tail (PRPs optionally relocated into RAM), then its doorbell.</summary>
    private void Submit(int qid)
    {
        byte flags = Byte();
        Span<byte> entry = stackalloc byte[SubmissionEntry.Size];
        entry.Clear();
        Bytes(SubmissionEntry.Size).CopyTo(entry);
        if ((flags & 1) != 0) Relocate(entry[24..]);
        if ((flags & 2) != 0) Relocate(entry[32..]);
        int size = Math.Max(_sizes[qid], 2);
        int slot = _tails[qid] % size;
        ulong ring = qid == 0 ? FuzzLayout.AdminSq : FuzzLayout.Sq(qid);
        entry.CopyTo(_ram.At(ring + (ulong)slot * SubmissionEntry.Size, SubmissionEntry.Size));
        _tails[qid] = (slot + 1) % size;
        if ((flags & 4) == 0) Write(0x1000 + 8 * (ulong)qid, 4, (uint)_tails[qid]);
        else BinaryPrimitives.WriteUInt32LittleEndian(_ram.At(FuzzLayout.ShadowPage + 8 * (ulong)qid, 4), (uint)_tails[qid]);
        // Remember the size a Create I/O queue command asked for, so later submissions find the tail.
        byte opcode = entry[0];
        if (qid == 0 && opcode is (byte)AdminOpcode.CreateIoSubmissionQueue)
        {
            int id = BinaryPrimitives.ReadUInt16LittleEndian(entry[40..]);
            if (id is > 0 and < QueueCount)
            {
                _sizes[id] = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(entry[42..]) + 1, FuzzLayout.MaxIoEntries);
                _tails[id] = 0;
            }
        }
    }

    /// <summary>A PRP field becomes RAM base + (value mod RAM size): a pointer that lands somewhere real.</summary>
    private static void Relocate(Span<byte> field)
    {
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(field);
        BinaryPrimitives.WriteUInt64LittleEndian(field, FuzzLayout.Base + value % FuzzLayout.RamSize);
    }

    /// <summary>Create I/O CQ then SQ with id and size from the input, at the id's ring area (as a host driver would).</summary>
    private void CreatePair()
    {
        int qid = 1 + Byte() % (QueueCount - 1);
        int size = 2 + Byte() % (FuzzLayout.MaxIoEntries - 1);
        bool interrupts = (Byte() & 1) != 0;
        _ram.At(FuzzLayout.Sq(qid), FuzzLayout.MaxIoEntries * SubmissionEntry.Size).Clear();
        _ram.At(FuzzLayout.Cq(qid), FuzzLayout.MaxIoEntries * CompletionEntry.Size).Clear();
        AdminCommand((byte)AdminOpcode.CreateIoCompletionQueue, FuzzLayout.Cq(qid), 0, (uint)qid | (uint)(size - 1) << 16, 1u | (interrupts ? 2u : 0));
        AdminCommand((byte)AdminOpcode.CreateIoSubmissionQueue, FuzzLayout.Sq(qid), 0, (uint)qid | (uint)(size - 1) << 16, 1u | (uint)qid << 16);
        _sizes[qid] = size;
        _tails[qid] = 0;
    }

    private void DoorbellBufferConfig()
    {
        byte variant = Byte();
        ulong shadow = (variant & 1) != 0 ? RamAddress() & ~0xFFFUL : FuzzLayout.ShadowPage;
        ulong eventIdx = (variant & 2) != 0 ? RamAddress() & ~0xFFFUL : FuzzLayout.EventIdxPage;
        AdminCommand((byte)AdminOpcode.DoorbellBufferConfig, shadow, eventIdx, 0, 0);
    }

    private void AdminCommand(byte opcode, ulong prp1, ulong prp2, uint cdw10, uint cdw11)
    {
        int size = Math.Max(_sizes[0], 2);
        int slot = _tails[0] % size;
        var d = _ram.At(FuzzLayout.AdminSq + (ulong)slot * SubmissionEntry.Size, SubmissionEntry.Size);
        d.Clear();
        d[0] = opcode;
        BinaryPrimitives.WriteUInt16LittleEndian(d[2..], (ushort)(0x8000 | slot));
        BinaryPrimitives.WriteUInt64LittleEndian(d[24..], prp1);
        BinaryPrimitives.WriteUInt64LittleEndian(d[32..], prp2);
        BinaryPrimitives.WriteUInt32LittleEndian(d[40..], cdw10);
        BinaryPrimitives.WriteUInt32LittleEndian(d[44..], cdw11);
        _tails[0] = (slot + 1) % size;
        Write(0x1000, 4, (uint)_tails[0]);
    }

    /// <summary>Raw bytes anywhere in guest RAM: rings, PRP lists, data, shadow and EventIdx pages, CQ phase tags.</summary>
    private void GuestWrite()
    {
        ulong gpa = FuzzLayout.Base + (UInt16() | (ulong)Byte() << 16) % FuzzLayout.RamSize;
        var bytes = Bytes(Byte());
        int room = (int)(FuzzLayout.End - gpa);
        bytes[..Math.Min(bytes.Length, room)].CopyTo(_ram.At(gpa, Math.Min(bytes.Length, room)));
    }

    /// <summary>A PRP list in one of the list pages: entries point at RAM pages (sometimes unaligned, or out of RAM).</summary>
    private void PrpList()
    {
        int page = Byte() % FuzzLayout.ListPages;
        int slot = Byte() % 512;
        int count = Byte() % 32;
        for (int i = 0; i < count && slot + i < 512; i++)
        {
            ushort e = UInt16();
            ulong value = FuzzLayout.Base + (ulong)(e & 0x3FF) * 0x1000 + ((e & 0x8000) != 0 ? (ulong)(e >> 10 & 0x1F) * 8 : 0);
            BinaryPrimitives.WriteUInt64LittleEndian(_ram.At(FuzzLayout.ListStart + (ulong)page * 0x1000 + 8 * (ulong)(slot + i), 8), value);
        }
    }

    /// <summary>A shadow doorbell (or EventIdx) value as a dbbuf guest stores it, optionally followed by the MMIO ring.</summary>
    private void Shadow()
    {
        byte which = Byte();
        int qid = which % QueueCount;
        ulong offset = 8 * (ulong)qid + ((which & 0x40) != 0 ? 4UL : 0);
        ulong page = (which & 0x20) != 0 ? FuzzLayout.EventIdxPage : FuzzLayout.ShadowPage;
        uint value = (which & 0x10) != 0 ? UInt32() : Byte();
        BinaryPrimitives.WriteUInt32LittleEndian(_ram.At(page + offset, 4), value);
        if ((which & 0x80) != 0) Write(0x1000 + offset, 4, value);
    }

    /// <summary>Any doorbell register, any value (in range or not, for queues that exist or not).</summary>
    private void Doorbell()
    {
        int row = Byte() % (2 * QueueCount + 2);
        uint value = (row & 1) == 0 && _next < _input.Length && (_input[_next] & 0x80) != 0 ? UInt32() : Byte();
        Write(0x1000 + 4 * (ulong)row, 4, value);
    }
}
