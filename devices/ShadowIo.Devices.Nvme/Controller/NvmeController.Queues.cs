namespace ShadowIo.Devices.Nvme;

/// <summary>Create and Delete I/O Submission/Completion Queue (sections 5.3–5.6).</summary>
public sealed partial class NvmeController
{
    /// <summary>Entry sizes the I/O queues use: CC.IOSQES = 6 (64 bytes), CC.IOCQES = 4 (16 bytes).</summary>
    private const uint RequiredIosqes = 6, RequiredIocqes = 4;

    private CommandOutcome CreateCompletionQueue(in SubmissionEntry command)
    {
        int qid = (int)(command.Cdw10 & 0xFFFF);
        int size = (int)(command.Cdw10 >> 16) + 1;
        bool contiguous = (command.Cdw11 & 0x1) != 0;
        bool interrupts = (command.Cdw11 & 0x2) != 0;
        int vector = (int)(command.Cdw11 >> 16);
        if (qid == 0 || qid >= QueueCount || _completionQueues[qid] is not null) return NvmeStatus.InvalidQueueIdentifier;
        if (size < 2 || size > _options.MaxQueueEntries) return NvmeStatus.InvalidQueueSize;
        if (interrupts && vector >= QueueCount) return NvmeStatus.InvalidInterruptVector;
        var status = CheckQueueMemory(command.Prp1, contiguous, (ulong)size * CompletionEntry.Size, Registers.CcIocqes, RequiredIocqes);
        if (status != NvmeStatus.Success) return status;

        _completionQueues[qid] = new CompletionQueue((ushort)qid, command.Prp1, size, interrupts, vector);
        PrepareDoorbells(qid, CqShadowOffset(qid));
        return CommandOutcome.Success;
    }

    private CommandOutcome CreateSubmissionQueue(in SubmissionEntry command)
    {
        int qid = (int)(command.Cdw10 & 0xFFFF);
        int size = (int)(command.Cdw10 >> 16) + 1;
        bool contiguous = (command.Cdw11 & 0x1) != 0;
        int cqid = (int)(command.Cdw11 >> 16);
        if (qid == 0 || qid >= QueueCount || _submissionQueues[qid] is not null) return NvmeStatus.InvalidQueueIdentifier;
        if (cqid == 0 || cqid >= QueueCount || _completionQueues[cqid] is not { } cq) return NvmeStatus.CompletionQueueInvalid;
        if (size < 2 || size > _options.MaxQueueEntries) return NvmeStatus.InvalidQueueSize;
        var status = CheckQueueMemory(command.Prp1, contiguous, (ulong)size * SubmissionEntry.Size, Registers.CcIosqes, RequiredIosqes);
        if (status != NvmeStatus.Success) return status;

        _submissionQueues[qid] = new SubmissionQueue((ushort)qid, command.Prp1, size, cq) { PublishedEventIdx = IsDoorbellBufferActive ? 0 : -1 };
        cq.SubmissionQueueCount++;
        PrepareDoorbells(qid, SqShadowOffset(qid));
        return CommandOutcome.Success;
    }

    /// <summary>
    /// CAP.CQR = 1: queues must be physically contiguous (PC = 1), page aligned, and wholly guest
    /// RAM; the entry size in CC must be the one Identify SQES/CQES allows.
    /// </summary>
    private NvmeStatus CheckQueueMemory(ulong address, bool contiguous, ulong bytes, uint entrySizeShift, uint required)
    {
        if (!contiguous || entrySizeShift != required) return NvmeStatus.InvalidField;
        if ((address & (PrpList.PageSize - 1)) != 0) return NvmeStatus.InvalidPrpOffset;
        return _memory.Contains(address, bytes) ? NvmeStatus.Success : NvmeStatus.InvalidField;
    }

    /// <summary>A new queue starts at 0: clear a stale value left by a write before it existed.</summary>
    private void PrepareDoorbells(int qid, int shadowOffset)
    {
        _doorbellSource.WriteUInt32(shadowOffset, 0);
        if (IsDoorbellBufferActive) _eventIdx.WriteUInt32(shadowOffset, 0);
    }

    private CommandOutcome DeleteSubmissionQueue(in SubmissionEntry command)
    {
        int qid = (int)(command.Cdw10 & 0xFFFF);
        if (qid == 0 || qid >= QueueCount || _submissionQueues[qid] is not { } sq) return NvmeStatus.InvalidQueueIdentifier;
        // Commands are executed as they are fetched, so none is outstanding to abort here; the
        // books still close the queue's account (a command left there would be lost).
        DiscardOutstanding(sq, 0);
        sq.CompletionQueue.SubmissionQueueCount--;
        _submissionQueues[qid] = null;
        return CommandOutcome.Success;
    }

    private CommandOutcome DeleteCompletionQueue(in SubmissionEntry command)
    {
        int qid = (int)(command.Cdw10 & 0xFFFF);
        if (qid == 0 || qid >= QueueCount || _completionQueues[qid] is not { } cq) return NvmeStatus.InvalidQueueIdentifier;
        if (cq.SubmissionQueueCount > 0) return NvmeStatus.InvalidQueueDeletion;
        _completionQueues[qid] = null;
        return CommandOutcome.Success;
    }
}
