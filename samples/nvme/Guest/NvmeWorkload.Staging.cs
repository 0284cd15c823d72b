namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// What the harness prepares in guest memory before a measured run (data patterns, command
/// templates the guest copies into its queue) and what it checks afterwards (the read buffers).
/// </summary>
internal sealed partial class NvmeWorkload
{
    /// <summary>Fills every write buffer with its block's pattern and lays out the Write commands.</summary>
    private void StageWrites(int pass)
    {
        for (int block = 0; block < _settings.Blocks; block++)
        {
            DataPatterns.Fill(_page, pass, block);
            Write(_layout.WriteBuffer(block), _page);
        }
        StageCommands(SubmissionEntries.WriteOpcode, _layout.WriteBuffers);
    }

    /// <summary>Clears every read buffer (so stale data cannot pass) and lays out the Read commands.</summary>
    private void StageReads()
    {
        if (!_guest.Memory.TryGetSpan(_layout.ReadBuffers, _settings.Blocks * WorkloadLayout.PageSize, out var buffers))
            throw new WorkloadException("the read buffers are outside guest RAM.");
        buffers.Clear();
        StageCommands(SubmissionEntries.ReadOpcode, _layout.ReadBuffers);
    }

    /// <summary>One 4 KiB command per block: one page, so PRP1 alone describes it.</summary>
    private void StageCommands(byte opcode, ulong buffers)
    {
        int lbasPerBlock = WorkloadLayout.PageSize >> _lbaShift;
        Span<byte> entry = stackalloc byte[SubmissionEntries.Size];
        for (int block = 0; block < _settings.Blocks; block++)
        {
            SubmissionEntries.ReadWrite(entry, opcode, NvmeController.NamespaceId, (ulong)block * (ulong)lbasPerBlock, lbasPerBlock,
                buffers + (ulong)block * WorkloadLayout.PageSize, 0);
            Write(_layout.IoCommands + (ulong)block * SubmissionEntries.Size, entry);
        }
    }

    /// <summary>Counts the read buffers that hold exactly the pattern written to their block.</summary>
    private long Verify(int pass)
    {
        long good = 0;
        for (int block = 0; block < _settings.Blocks; block++)
        {
            Read(_layout.ReadBuffer(block), _page);
            if (DataPatterns.Matches(_page, pass, block)) good++;
        }
        return good;
    }
}
