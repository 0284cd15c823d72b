namespace ShadowIo.Fuzz.Nvme;

/// <summary>Guest RAM layout of a fuzz episode (1 MiB of RAM at <see cref="Base"/>).</summary>
internal static class FuzzLayout
{
    public const ulong Base = 0x10_0000;
    public const int RamSize = 1 << 20;
    public const ulong End = Base + RamSize;
    public const ulong AdminSq = Base;
    public const ulong AdminCq = Base + 0x1000;
    public const int AdminEntries = 32;
    public const int MaxIoEntries = 64;
    public const ulong DataStart = Base + 0x4_0000;
    public const int DataPages = 128;
    public const ulong ListStart = Base + 0xC_0000;
    public const int ListPages = 32;
    public const ulong ShadowPage = Base + 0xF_0000;
    public const ulong EventIdxPage = Base + 0xF_1000;

    /// <summary>Each I/O queue id has its own ring area (64 entries fit): rings never overlap data.</summary>
    public static ulong Sq(int qid) => Base + 0x1_0000 + (ulong)qid * 0x2000;

    public static ulong Cq(int qid) => Sq(qid) + 0x1000;
}

/// <summary>What the fuzzer last wrote into one submission queue slot.</summary>
internal struct FuzzSlot
{
    public SubmissionEntry Entry;
    public bool MustSucceed;

    /// <summary>The input that wrote the slot: "must succeed" is only checked in that input.</summary>
    public long Action;
}

/// <summary>The fuzzing host driver's view of a completion queue.</summary>
internal sealed class ModelCq(int id, ulong address, int size)
{
    public int Id { get; } = id;
    public ulong Address { get; } = address;
    public int Size { get; } = size;
    public int Head { get; set; }
    public bool Phase { get; set; } = true;

    /// <summary>Last head value made visible to the controller (−1: publish again, whatever it is).</summary>
    public int PublishedHead { get; set; }

    /// <summary>
    /// The last head the host wrote where the controller reads it (MMIO or shadow): the controller
    /// may fill at most Size − 1 slots from there (one stays empty, 4.1.2), never more.
    /// </summary>
    public int VisibleHead { get; set; }
}

/// <summary>The fuzzing host driver's view of a submission queue, with a mirror of every slot.</summary>
internal sealed class ModelSq(int id, ulong address, int size, ModelCq cq)
{
    public int Id { get; } = id;
    public ulong Address { get; } = address;
    public int Size { get; } = size;
    public ModelCq Cq { get; } = cq;
    public FuzzSlot[] Slots { get; } = new FuzzSlot[size];

    /// <summary>Where the driver writes its next entry.</summary>
    public int Tail { get; set; }

    /// <summary>Last valid tail made visible to the controller (MMIO or shadow).</summary>
    public int PublishedTail { get; set; }

    /// <summary>The "old" value of Linux's EventIdx rule: the last value written to the shadow.</summary>
    public int PublishedTailForRule { get; set; }

    /// <summary>The controller's head after the previous check.</summary>
    public int ControllerHead { get; set; }

    public ushort NextCommandId { get; set; } = 1;

    /// <summary>
    /// A chaos tail was published since the last check: the guest may have moved the tail
    /// backwards after the controller saw a later one, so any entry may rightly be fetched.
    /// </summary>
    public bool TailRewound { get; set; }
}
