namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// Where the workload keeps everything in guest-physical memory (identity-mapped, so these are
/// also the guest's virtual addresses). Every structure the controller reads with DMA starts on
/// its own 4 KiB page, as NVMe requires of queues (PC = 1) and of Doorbell Buffer Config pages.
/// </summary>
internal sealed class WorkloadLayout
{
    public const int PageSize = 4096;

    /// <summary>Queue state words (tail, head, phase) for one queue pair, 16 bytes.</summary>
    public const int QueueStateSize = 16;

    public WorkloadLayout(ulong dataBase, int ioQueueEntries, int commandSlots, int dataPages)
    {
        if (dataBase % PageSize != 0) throw new ArgumentException("The data area must start on a page.", nameof(dataBase));
        ulong next = dataBase;
        ulong Take(ulong bytes)
        {
            ulong at = next;
            next += (bytes + PageSize - 1) / PageSize * PageSize;
            return at;
        }

        IoQueueEntries = ioQueueEntries;
        CommandSlots = commandSlots;
        DataPages = dataPages;
        ControlPage = Take(PageSize);
        AdminSubmissionQueue = Take(AdminQueueEntries * 64);
        AdminCompletionQueue = Take(AdminQueueEntries * 16);
        IoSubmissionQueue = Take((ulong)ioQueueEntries * 64);
        IoCompletionQueue = Take((ulong)ioQueueEntries * 16);
        ShadowDoorbells = Take(PageSize);
        EventIndexes = Take(PageSize);
        IdentifyController = Take(PageSize);
        IdentifyNamespace = Take(PageSize);
        AdminCommands = Take(AdminQueueEntries * 64);
        IoCommands = Take((ulong)commandSlots * 64);
        PrpLists = Take((ulong)(dataPages / PagesPerPrpTransfer + PrpListsPerPage - 1) / PrpListsPerPage * PageSize);
        WriteBuffers = Take((ulong)dataPages * PageSize);
        ReadBuffers = Take((ulong)dataPages * PageSize);
        End = next;
    }

    /// <summary>Admin queue depth: the setup issues a handful of commands one at a time.</summary>
    public const int AdminQueueEntries = 16;

    public int IoQueueEntries { get; }
    public int CommandSlots { get; }
    public int DataPages { get; }

    /// <summary>Statistics at +0, admin queue state at +0x100, I/O queue state at +0x110.</summary>
    public ulong ControlPage { get; }
    public ulong Statistics => ControlPage;
    public ulong AdminQueueState => ControlPage + 0x100;
    public ulong IoQueueState => ControlPage + 0x110;

    public ulong AdminSubmissionQueue { get; }
    public ulong AdminCompletionQueue { get; }
    public ulong IoSubmissionQueue { get; }
    public ulong IoCompletionQueue { get; }
    public ulong ShadowDoorbells { get; }
    public ulong EventIndexes { get; }
    public ulong IdentifyController { get; }
    public ulong IdentifyNamespace { get; }
    public ulong AdminCommands { get; }
    public ulong IoCommands { get; }
    public ulong WriteBuffers { get; }

    /// <summary>Pages per multi-page transfer of the PRP-list pass: PRP1 plus a three-entry list.</summary>
    public const int PagesPerPrpTransfer = 4;

    /// <summary>PRP lists of that pass, 32 bytes apart so none crosses a page.</summary>
    public ulong PrpLists { get; }
    public const int PrpListStride = 32;
    public const int PrpListsPerPage = PageSize / PrpListStride;
    public ulong PrpList(int transfer) => PrpLists + (ulong)transfer * PrpListStride;
    public ulong ReadBuffers { get; }

    /// <summary>First byte after the workload's data: guest RAM must reach at least here.</summary>
    public ulong End { get; }

    public ulong WriteBuffer(int page) => WriteBuffers + (ulong)page * PageSize;
    public ulong ReadBuffer(int page) => ReadBuffers + (ulong)page * PageSize;
}
