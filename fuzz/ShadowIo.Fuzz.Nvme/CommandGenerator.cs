using System.Buffers.Binary;

namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// Random submission entries: mostly well formed (so deep paths run), the rest hostile — any
/// opcode and NSID, LBAs past the end, PRPs outside RAM or unaligned, PRP lists that loop, run
/// off the end of RAM or hold garbage. Well-formed commands are marked "must succeed".
/// </summary>
internal sealed class CommandGenerator(FuzzSource r, ExpectedGuestRam ram, ulong blockCount)
{
    private const int Page = 4096;

    public (SubmissionEntry Entry, bool MustSucceed) Io()
    {
        if (r.Chance(5)) return (RawEntry(), false);
        var e = new SubmissionEntry();
        int kind = r.Next(100);
        byte opcode = kind switch
        {
            < 30 => (byte)IoOpcode.Read,
            < 60 => (byte)IoOpcode.Write,
            < 67 => (byte)IoOpcode.Flush,
            < 80 => (byte)IoOpcode.WriteZeroes,
            _ => (byte)r.NextUInt(),
        };
        e.Cdw0 = opcode;
        bool good = Enum.IsDefined((IoOpcode)opcode);
        if (r.Chance(3))
        {
            e.Cdw0 |= (r.NextUInt() & 0x3u) << 8 | (r.NextUInt() & 0x3u) << 14; // FUSE / PSDT
            good &= (e.Cdw0 & 0xC300) == 0;
        }
        e.Nsid = r.Chance(88) ? NvmeController.NamespaceId : r.Pick<uint>([0, 2, 0xFFFF_FFFF, r.NextUInt()]);
        good &= e.Nsid == NvmeController.NamespaceId || (opcode == (byte)IoOpcode.Flush && e.Nsid == 0xFFFF_FFFF);

        int blocks = r.Chance(70) ? r.Next(1, 9) : r.Next(1, 65);
        ulong slba = (ulong)r.Next((int)Math.Max(1, (long)blockCount - blocks + 1));
        if (r.Chance(10))
        {
            slba = r.Pick<ulong>([blockCount, blockCount - 1, ulong.MaxValue, r.NextULong(), blockCount - (ulong)blocks + 1]);
            if (r.Chance(30)) blocks = r.Next(1, 0x1_0001);
        }
        bool rangeOk = slba < blockCount && (ulong)blocks <= blockCount - slba;
        e.Cdw10 = (uint)slba;
        e.Cdw11 = (uint)(slba >> 32);
        e.Cdw12 = (uint)(blocks - 1) | (r.Chance(5) ? r.NextUInt() & 0xFFFF_0000 : 0);
        if (opcode is (byte)IoOpcode.Read or (byte)IoOpcode.Write or (byte)IoOpcode.WriteZeroes) good &= rangeOk;
        if (opcode is (byte)IoOpcode.Read or (byte)IoOpcode.Write)
        {
            good &= blocks * 512 <= 128 * 1024;
            good &= Prps(ref e, Math.Min(blocks, 256) * 512);
        }
        else if (r.Chance(50))
        {
            e.Prp1 = r.NextULong();
            e.Prp2 = r.NextULong();
        }
        return (e, good);
    }

    /// <summary>Admin commands; <paramref name="existingCq"/> and friends steer ids toward live queues.</summary>
    public (SubmissionEntry Entry, bool MustSucceed) Admin(Func<int, bool> cqExists, Func<int, bool> sqExists, bool dbbufAllowed)
    {
        if (r.Chance(8)) return (RawEntry(), false);
        var e = new SubmissionEntry();
        bool good;
        int pick = r.Next(100);
        switch (pick)
        {
            case < 15:
            {
                int qid = QueueId(cqExists);
                int size = QueueSize(out bool sizeOk);
                bool interrupts = r.Chance(50);
                int vector = r.Chance(90) ? r.Next(NvmeRegisters.QueueCount) : r.Next(0x1_0000);
                ulong address = QueueAddress(qid, FuzzLayout.Cq, out bool addressOk);
                e.Cdw0 = (byte)AdminOpcode.CreateIoCompletionQueue;
                e.Prp1 = address;
                e.Cdw10 = (uint)qid | (uint)(size - 1) << 16;
                bool contiguous = r.Chance(95);
                e.Cdw11 = (contiguous ? 1u : 0) | (interrupts ? 2u : 0) | (uint)vector << 16;
                good = qid is > 0 and < NvmeRegisters.QueueCount && !cqExists(qid) && sizeOk && addressOk && contiguous
                    && (!interrupts || vector < NvmeRegisters.QueueCount);
                break;
            }
            case < 30:
            {
                int qid = QueueId(sqExists);
                int cqid = r.Chance(75) ? r.Next(1, NvmeRegisters.QueueCount) : r.Next(0x1_0000);
                int size = QueueSize(out bool sizeOk);
                ulong address = QueueAddress(qid, FuzzLayout.Sq, out bool addressOk);
                bool contiguous = r.Chance(95);
                e.Cdw0 = (byte)AdminOpcode.CreateIoSubmissionQueue;
                e.Prp1 = address;
                e.Cdw10 = (uint)qid | (uint)(size - 1) << 16;
                e.Cdw11 = (contiguous ? 1u : 0) | (r.NextUInt() & 0x6) | (uint)cqid << 16;
                good = qid is > 0 and < NvmeRegisters.QueueCount && !sqExists(qid) && cqid is > 0 and < NvmeRegisters.QueueCount
                    && cqExists(cqid) && sizeOk && addressOk && contiguous;
                break;
            }
            case < 37:
                e.Cdw0 = (byte)AdminOpcode.DeleteIoSubmissionQueue;
                e.Cdw10 = (uint)QueueId(sqExists);
                good = false;
                break;
            case < 44:
                e.Cdw0 = (byte)AdminOpcode.DeleteIoCompletionQueue;
                e.Cdw10 = (uint)QueueId(cqExists);
                good = false;
                break;
            case < 56:
            {
                e.Cdw0 = (byte)AdminOpcode.Identify;
                byte cns = r.Chance(85) ? (byte)r.Next(4) : (byte)r.NextUInt();
                e.Cdw10 = cns | (r.Chance(10) ? r.NextUInt() & 0xFFFF_0000 : 0);
                e.Nsid = r.Pick<uint>([0, 1, 1, 2, 0xFFFF_FFFE, 0xFFFF_FFFF, r.NextUInt()]);
                bool prpsOk = Prps(ref e, Page);
                good = prpsOk && cns switch
                {
                    1 => true,
                    0 or 3 => e.Nsid == 1,
                    2 => e.Nsid < 0xFFFF_FFFE,
                    _ => false,
                };
                break;
            }
            case < 62:
            {
                e.Cdw0 = (byte)AdminOpcode.GetLogPage;
                byte lid = r.Chance(80) ? (byte)r.Next(1, 4) : (byte)r.NextUInt();
                uint numd = r.Chance(85) ? (uint)r.Next(1024) : r.NextUInt();
                e.Cdw10 = lid | (r.NextUInt() & 0x0F00) | (numd & 0xFFFF) << 16;
                e.Cdw11 = numd >> 16;
                if (r.Chance(20))
                {
                    e.Cdw12 = r.Chance(50) ? (uint)r.Next(1024) : r.NextUInt();
                    e.Cdw13 = r.Chance(80) ? 0 : r.NextUInt();
                }
                int length = (int)Math.Min((numd + 1UL) * 4, 128 * 1024); // PRPs for the whole transfer up to MDTS
                good = Prps(ref e, length) && (numd + 1UL) * 4 <= 128 * 1024 && lid is >= 1 and <= 3 && e.Cdw13 == 0 && (e.Cdw12 & 3) == 0
                    && e.Cdw12 < (lid == 1 ? (uint)(ErrorLog.Entries * ErrorLog.EntrySize) : 512u);
                break;
            }
            case < 72:
            {
                bool set = r.Chance(50);
                e.Cdw0 = (byte)(set ? AdminOpcode.SetFeatures : AdminOpcode.GetFeatures);
                byte fid = r.Chance(85) ? (byte)r.Next(13) : (byte)r.NextUInt();
                uint select = r.Chance(80) ? 0 : (uint)r.Next(8);
                bool save = set && r.Chance(5);
                e.Cdw10 = fid | (set ? 0 : select << 8) | (save ? 0x8000_0000 : 0);
                e.Cdw11 = fid == (byte)FeatureId.NumberOfQueues && r.Chance(70) ? (uint)r.Next(64) | (uint)r.Next(64) << 16 : r.NextUInt();
                bool supported = FeatureSet.IsSupported(fid);
                good = supported && !save && (set ? !(fid == (byte)FeatureId.NumberOfQueues && ((e.Cdw11 & 0xFFFF) == 0xFFFF || e.Cdw11 >> 16 == 0xFFFF)) : select <= 3);
                break;
            }
            case < 75:
                e.Cdw0 = (byte)AdminOpcode.Abort;
                e.Cdw10 = r.NextUInt();
                good = true;
                break;
            case < 82:
                e.Cdw0 = (byte)AdminOpcode.AsyncEventRequest;
                good = false; // may legitimately hit the limit
                break;
            case < 88:
            {
                e.Cdw0 = (byte)AdminOpcode.DoorbellBufferConfig;
                int variant = dbbufAllowed ? r.Next(8) : 1 + r.Next(7);
                (e.Prp1, e.Prp2) = variant switch
                {
                    0 => (FuzzLayout.ShadowPage, FuzzLayout.EventIdxPage),
                    1 => (FuzzLayout.ShadowPage + 8, FuzzLayout.EventIdxPage),
                    2 => (FuzzLayout.ShadowPage, FuzzLayout.EventIdxPage + 0x800),
                    3 => (FuzzLayout.ShadowPage, FuzzLayout.ShadowPage),
                    4 => (FuzzLayout.End, FuzzLayout.EventIdxPage),
                    5 => (FuzzLayout.ShadowPage, FuzzLayout.End - 0x800),
                    6 => (r.NextULong() & ~0xFFFUL, FuzzLayout.EventIdxPage),
                    _ => (r.NextULong(), r.NextULong()),
                };
                good = variant == 0;
                break;
            }
            default:
                e.Cdw0 = (byte)r.NextUInt();
                e.Nsid = r.NextUInt();
                e.Cdw10 = r.NextUInt();
                e.Cdw11 = r.NextUInt();
                good = false;
                break;
        }
        if (r.Chance(2))
        {
            e.Cdw0 |= (r.NextUInt() & 0x3u) << 8 | (r.NextUInt() & 0x3u) << 14;
            good &= (e.Cdw0 & 0xC300) == 0;
        }
        // Never let a random entry configure dbbuf pages the model does not know about.
        if ((e.Cdw0 & 0xFF) == (byte)AdminOpcode.DoorbellBufferConfig && !(e.Prp1 == FuzzLayout.ShadowPage && e.Prp2 == FuzzLayout.EventIdxPage && dbbufAllowed))
        {
            e.Prp2 = e.Prp1; // same page: always refused
        }
        // Likewise, queue creation only at the model's ring areas (or refused addresses).
        if ((e.Cdw0 & 0xFF) is (byte)AdminOpcode.CreateIoCompletionQueue or (byte)AdminOpcode.CreateIoSubmissionQueue)
        {
            int qid = (int)(e.Cdw10 & 0xFFFF);
            bool isCq = (e.Cdw0 & 0xFF) == (byte)AdminOpcode.CreateIoCompletionQueue;
            ulong canonical = qid is > 0 and < NvmeRegisters.QueueCount ? (isCq ? FuzzLayout.Cq(qid) : FuzzLayout.Sq(qid)) : 0;
            int entries = (int)(e.Cdw10 >> 16) + 1;
            bool fits = entries <= FuzzLayout.MaxIoEntries;
            if (e.Prp1 != canonical || !fits)
            {
                // Make it certainly refused: unaligned, or outside RAM.
                if (e.Prp1 >= FuzzLayout.Base && e.Prp1 < FuzzLayout.End) e.Prp1 = (e.Prp1 & 0xFFF) == 0 ? e.Prp1 | 0x10 : e.Prp1;
                if (fits == false && e.Prp1 == canonical) e.Prp1 = canonical | 0x10;
            }
        }
        return (e, good);
    }

    private SubmissionEntry RawEntry() => new()
    {
        Cdw0 = r.NextUInt(), Nsid = r.Chance(50) ? 1 : r.NextUInt(), Cdw2 = r.NextUInt(), Cdw3 = r.NextUInt(),
        Mptr = r.NextULong(), Prp1 = r.NextULong(), Prp2 = r.NextULong(),
        Cdw10 = r.NextUInt(), Cdw11 = r.NextUInt(), Cdw12 = r.NextUInt(), Cdw13 = r.NextUInt(), Cdw14 = r.NextUInt(), Cdw15 = r.NextUInt(),
    };

    private int QueueId(Func<int, bool> exists)
    {
        int p = r.Next(100);
        if (p < 70) return r.Next(1, NvmeRegisters.QueueCount);
        if (p < 80) return 0;
        if (p < 90) return r.Next(NvmeRegisters.QueueCount, 0x1_0000);
        for (int i = 1; i < NvmeRegisters.QueueCount; i++)
        {
            if (exists(i)) return i;
        }
        return 1;
    }

    private int QueueSize(out bool ok)
    {
        ok = true;
        if (r.Chance(80)) return r.Next(2, FuzzLayout.MaxIoEntries + 1);
        ok = false;
        return r.Pick<int>([1, 1025, 4096, 65536]);
    }

    private ulong QueueAddress(int qid, Func<int, ulong> canonical, out bool ok)
    {
        ok = qid is > 0 and < NvmeRegisters.QueueCount && r.Chance(85);
        if (ok) return canonical(qid);
        return r.Pick<ulong>([FuzzLayout.End, FuzzLayout.End - 0x1000, 0, r.NextULong() & ~0xFFFUL, FuzzLayout.DataStart + 0x10]);
    }

    /// <summary>Fills PRP1/PRP2 for a transfer; returns whether they are valid.</summary>
    private bool Prps(ref SubmissionEntry e, int bytes)
    {
        if (r.Chance(80))
        {
            (e.Prp1, e.Prp2) = ValidPrps(bytes);
            return true;
        }
        int kind = r.Next(11);
        switch (kind)
        {
            case 0: e.Prp1 = r.Pick<ulong>([FuzzLayout.End, 0, 0x1000, ulong.MaxValue & ~0xFFFUL, FuzzLayout.End - 0x200]); e.Prp2 = 0; break;
            case 1: (e.Prp1, e.Prp2) = ValidPrps(bytes); e.Prp1 |= 1 + (ulong)r.Next(3); break;
            case 2:
                // A misaligned second data pointer. (Not a list pointer shifted by a slot: the walk
                // would then take the list's chain pointer for a data page and write into lists.)
                (e.Prp1, e.Prp2) = ValidPrps(Math.Min(bytes, 2 * Page));
                e.Prp2 |= 8;
                break;
            case 3: (e.Prp1, e.Prp2) = ValidPrps(bytes); e.Prp2 = FuzzLayout.End + (ulong)r.Next(16) * 0x1000; break;
            case 4: (e.Prp1, e.Prp2) = ValidPrps(bytes); e.Prp2 |= 4; break;
            case 5:
            case 6:
            {
                (e.Prp1, e.Prp2) = ValidPrps(bytes);
                ulong bad = kind == 5 ? DataPage() + 0x40 : FuzzLayout.End + 0x1000;
                // Spoil a copy of the list in a hostile page rather than the valid list itself.
                if (bytes > 2 * Page)
                {
                    ulong list = ListPage();
                    for (int i = 0; i < 16; i++) WriteQword(list + 8 * (ulong)i, DataPage());
                    WriteQword(list + 8 * (ulong)r.Next(Math.Min(16, bytes / Page - 1)), bad);
                    e.Prp2 = list;
                }
                else
                {
                    e.Prp2 = bad;
                }
                break;
            }
            case 7:
            {
                // A list page whose last slot points back at itself: chains forever without data.
                ulong list = ListPage() + Page - 8;
                WriteQword(list, list);
                e.Prp1 = DataPage();
                e.Prp2 = list;
                break;
            }
            case 8: e.Prp1 = DataPage(); e.Prp2 = FuzzLayout.End - 8 * (ulong)r.Next(1, 4); break;
            case 9: e.Prp1 = r.NextULong(); e.Prp2 = r.NextULong(); break;
            default:
            {
                ulong list = ListPage();
                for (int i = 0; i < 8; i++) WriteQword(list + 8 * (ulong)i, r.NextULong());
                e.Prp1 = DataPage();
                e.Prp2 = list;
                break;
            }
        }
        // A zero-length transfer has nothing to get wrong.
        return bytes == 0;
    }

    private (ulong, ulong) ValidPrps(int bytes)
    {
        ulong prp1 = DataPage() + (r.Chance(50) ? 0 : (ulong)r.Next(Page / 4) * 4);
        int first = Math.Min(bytes, Page - (int)(prp1 & (Page - 1)));
        int rest = bytes - first;
        if (rest <= 0) return (prp1, r.Chance(50) ? 0 : r.NextULong());
        if (rest <= Page) return (prp1, DataPage());

        // A PRP list, possibly starting inside a page and chaining to the next list page.
        int pages = (rest + Page - 1) / Page;
        int listPage = NextValidListPage();
        ulong entry = FuzzLayout.ListStart + (ulong)listPage * Page + (r.Chance(50) ? 0 : (ulong)r.Next(Page / 8) * 8);
        ulong prp2 = entry;
        for (int i = 0; i < pages; i++)
        {
            bool lastSlot = (entry & (Page - 1)) == Page - 8;
            if (lastSlot && pages - i > 1)
            {
                listPage = NextValidListPage();
                ulong next = FuzzLayout.ListStart + (ulong)listPage * Page;
                WriteQword(entry, next);
                entry = next;
            }
            WriteQword(entry, DataPage());
            entry += 8;
        }
        return (prp1, prp2);
    }

    private ulong DataPage() => FuzzLayout.DataStart + (ulong)r.Next(FuzzLayout.DataPages) * Page;

    /// <summary>Pages for hostile lists, apart from the valid ones so they never spoil a good command.</summary>
    private ulong ListPage() => FuzzLayout.ListStart + (ulong)(ValidListPages + r.Next(FuzzLayout.ListPages - ValidListPages)) * Page;

    private const int ValidListPages = 24;
    private int _nextListPage;

    /// <summary>Valid lists rotate through their pages, so the commands of one batch never share one.</summary>
    private int NextValidListPage()
    {
        int page = _nextListPage;
        _nextListPage = (_nextListPage + 1) % ValidListPages;
        return page;
    }

    private void WriteQword(ulong gpa, ulong value) => ram.WriteUInt64(gpa, value);
}
