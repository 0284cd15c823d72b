namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// The PRP-list pass: 16 KiB Writes and Reads whose four pages are scattered in guest memory
/// and named in reverse order (PRP1 and a PRP list in PRP2, NVMe 2.0 §4.1.1), so the data only
/// lands right when the controller walks the list entry by entry.
/// </summary>
internal sealed partial class NvmeWorkload
{
    /// <summary>Runs the pass once (not timed); returns blocks checked and blocks that were right.</summary>
    private (long Blocks, long Verified) RunPrpListPass(int step, int pass, WorkloadMeasurement measured)
    {
        int transfers = _settings.Blocks / WorkloadLayout.PagesPerPrpTransfer;
        if (transfers == 0) return (0, 0);
        int depth = Math.Min(_settings.QueueDepth, transfers);
        Report(step, $"QD{depth}: 16 KiB transfers through PRP lists");

        StageWrites(pass);
        StagePrpListCommands(SubmissionEntries.WriteOpcode, _layout.WriteBuffers, transfers);
        var write = RunIo(depth, "PRP-list Write", transfers);

        StageReads();
        StagePrpListCommands(SubmissionEntries.ReadOpcode, _layout.ReadBuffers, transfers);
        var read = RunIo(depth, "PRP-list Read", transfers);
        measured.Add(depth, write, read, measureRate: false);

        // A block counts when the guest read it back intact AND the namespace holds it where the
        // reversed list put it: transfer page k of transfer t is buffer 4t + 3 - k, stored at block 4t + k.
        long good = 0;
        int blocks = transfers * WorkloadLayout.PagesPerPrpTransfer;
        for (int block = 0; block < blocks; block++)
        {
            Read(_layout.ReadBuffer(block), _page);
            bool readBack = DataPatterns.Matches(_page, pass, block);
            int transfer = block / WorkloadLayout.PagesPerPrpTransfer, k = block % WorkloadLayout.PagesPerPrpTransfer;
            int source = transfer * WorkloadLayout.PagesPerPrpTransfer + WorkloadLayout.PagesPerPrpTransfer - 1 - k;
            // With --transport vfio-user the namespace is the device process's: only the read-back is checked there.
            bool stored = _storage is null || _storage.TryRead((long)block * WorkloadLayout.PageSize, _page) && DataPatterns.Matches(_page, pass, source);
            if (readBack && stored) good++;
        }
        return (blocks, good);
    }

    private void StagePrpListCommands(byte opcode, ulong buffers, int transfers)
    {
        int lbasPerBlock = WorkloadLayout.PageSize >> _lbaShift;
        Span<byte> entry = stackalloc byte[SubmissionEntries.Size];
        Span<byte> list = stackalloc byte[8 * (WorkloadLayout.PagesPerPrpTransfer - 1)];
        for (int t = 0; t < transfers; t++)
        {
            int first = t * WorkloadLayout.PagesPerPrpTransfer;
            ulong Page(int k) => buffers + (ulong)(first + WorkloadLayout.PagesPerPrpTransfer - 1 - k) * WorkloadLayout.PageSize;
            for (int k = 1; k < WorkloadLayout.PagesPerPrpTransfer; k++)
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(list[((k - 1) * 8)..], Page(k));
            Write(_layout.PrpList(t), list);
            SubmissionEntries.ReadWrite(entry, opcode, NvmeController.NamespaceId, (ulong)first * (ulong)lbasPerBlock,
                WorkloadLayout.PagesPerPrpTransfer * lbasPerBlock, Page(0), _layout.PrpList(t));
            Write(_layout.IoCommands + (ulong)t * SubmissionEntries.Size, entry);
        }
    }
}
