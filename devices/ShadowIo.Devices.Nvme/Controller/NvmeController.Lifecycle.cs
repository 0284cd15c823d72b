namespace ShadowIo.Devices.Nvme;

/// <summary>Enable, reset and shutdown (NVMe base spec 3.5 "Controller Initialization", 3.6 "Shutdown").</summary>
public sealed partial class NvmeController
{
    /// <summary>Why the last CC.EN 0→1 failed (CSTS.CFS set), for the host's log.</summary>
    public string? LastEnableFailure { get; private set; }

    private bool IsReady => Registers.CstsRdy && !_shutDown && !Registers.CstsCfs;

    /// <summary>CAP from the options: MQES, contiguous queues required, 10 s timeout, DSTRD 0, NVM command set, 4 KiB pages.</summary>
    private void ResetRegisterFile()
    {
        Registers.ResetRegisters();
        Registers.CapMqes = (ulong)(_options.MaxQueueEntries - 1);
        Registers.CapDstrd = 0;
    }

    private void ApplyConfiguration(uint previous, uint value)
    {
        bool wasEnabled = (previous & NvmeRegisters.CcFields.EnMask) != 0;
        bool enabled = (value & NvmeRegisters.CcFields.EnMask) != 0;
        if (wasEnabled && !enabled) ResetController();
        else if (!wasEnabled && enabled) EnableController();

        var notification = (ShutdownNotification)((value & NvmeRegisters.CcFields.ShnMask) >> NvmeRegisters.CcFields.ShnShift);
        var before = (ShutdownNotification)((previous & NvmeRegisters.CcFields.ShnMask) >> NvmeRegisters.CcFields.ShnShift);
        if (enabled && notification != ShutdownNotification.None && before != notification) ShutDown();
    }

    /// <summary>CC.EN 0→1: check the configuration and admin queue registers, then set CSTS.RDY.</summary>
    private void EnableController()
    {
        if (Registers.CstsRdy || Registers.CstsCfs) return;
        string? failure = CheckEnableConfiguration(out int sqSize, out int cqSize);
        if (failure is not null)
        {
            // The spec leaves a bad configuration's outcome to the controller: report it as fatal
            // status so the host sees a failed enable instead of waiting for RDY until CAP.TO.
            LastEnableFailure = failure;
            Registers.CstsCfs = true;
            return;
        }
        LastEnableFailure = null;
        var acq = new CompletionQueue(0, Registers.Acq, cqSize, interruptsEnabled: true, vector: 0);
        _completionQueues[0] = acq;
        _submissionQueues[0] = new SubmissionQueue(0, Registers.Asq, sqSize, acq);
        acq.SubmissionQueueCount = 1;
        ZeroSourceRow(0);
        _shutDown = false;
        Registers.CstsShst = ShutdownStatus.Normal;
        Registers.CstsRdy = true;
    }

    private string? CheckEnableConfiguration(out int sqSize, out int cqSize)
    {
        sqSize = (int)Registers.AqaAsqs + 1;
        cqSize = (int)Registers.AqaAcqs + 1;
        if (Registers.CcMps != 0) return $"CC.MPS {Registers.CcMps} is not supported (4 KiB pages only).";
        if (Registers.CcCss != 0) return $"CC.CSS {Registers.CcCss} is not supported (NVM command set only).";
        if (Registers.CcAms != 0) return $"CC.AMS {Registers.CcAms} is not supported (round robin only).";
        if (sqSize < 2 || cqSize < 2) return "AQA: admin queues need at least 2 entries.";
        if (sqSize > _options.MaxQueueEntries || cqSize > _options.MaxQueueEntries) return "AQA: admin queue larger than CAP.MQES.";
        ulong asq = Registers.Asq, acq = Registers.Acq;
        if (((asq | acq) & (PrpList.PageSize - 1)) != 0) return "ASQ/ACQ must be page aligned.";
        if (!_memory.Contains(asq, (ulong)sqSize * SubmissionEntry.Size)) return $"ASQ 0x{asq:x} is not guest RAM.";
        if (!_memory.Contains(acq, (ulong)cqSize * CompletionEntry.Size)) return $"ACQ 0x{acq:x} is not guest RAM.";
        return null;
    }

    /// <summary>
    /// CC.EN 1→0 (section 3.7.2): delete every queue, drop outstanding AERs, end guest-shadow mode,
    /// clear CSTS.RDY/CFS/SHST. AQA, ASQ and ACQ keep their values.
    /// </summary>
    private void ResetController()
    {
        foreach (var sq in _submissionQueues)
        {
            if (sq is not null) DiscardOutstanding(sq, sq.Id == 0 ? _asyncEvents.OutstandingRequests : 0);
        }
        Array.Clear(_submissionQueues);
        Array.Clear(_completionQueues);
        _asyncEvents.Clear();
        _features.Reset();
        _shutDown = false;
        DeactivateDoorbellBuffer();
        // Doorbell registers reset to 0; stale values must not look like new work to Poll.
        for (int qid = 0; qid < QueueCount; qid++) ZeroSourceRow(qid);
        // CSTS through its field setters, each one atomic update beside a guest's CSTS write: SHST and
        // CFS first, RDY last, so a host that sees RDY = 0 sees the rest cleared. NSSRO is not the
        // controller reset's to clear (section 3.1.6: the host clears it by writing 1).
        Registers.CstsShst = ShutdownStatus.Normal;
        Registers.CstsCfs = false;
        Registers.CstsRdy = false;
        Registers.ClearInterruptMask();
    }

    /// <summary>CC.SHN (section 3.6.1): stop processing, flush the namespace, report SHST complete.</summary>
    private void ShutDown()
    {
        _shutDown = true;
        _storage.TryFlush();
        Registers.CstsShst = ShutdownStatus.Complete;
    }

    private void ZeroSourceRow(int qid)
    {
        _doorbellSource.WriteUInt32(SqShadowOffset(qid), 0);
        _doorbellSource.WriteUInt32(CqShadowOffset(qid), 0);
    }

    private static int SqShadowOffset(int qid) => NvmeRegisters.ShadowLayout.SqTail + qid * NvmeRegisters.ShadowLayout.SqTailStride;

    private static int CqShadowOffset(int qid) => NvmeRegisters.ShadowLayout.CqHead + qid * NvmeRegisters.ShadowLayout.CqHeadStride;
}
