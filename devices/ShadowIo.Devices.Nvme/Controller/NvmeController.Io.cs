namespace ShadowIo.Devices.Nvme;

/// <summary>NVM command set I/O commands (NVM Command Set spec section 3).</summary>
public sealed partial class NvmeController
{
    private CommandOutcome ExecuteIo(in SubmissionEntry command)
    {
        if (command.Fuse != 0 || command.Psdt != 0) return NvmeStatus.InvalidField;
        return (IoOpcode)command.Opcode switch
        {
            IoOpcode.Read => Read(in command),
            IoOpcode.Write => Write(in command),
            IoOpcode.Flush => Flush(in command),
            IoOpcode.WriteZeroes => WriteZeroes(in command),
            _ => NvmeStatus.InvalidOpcode,
        };
    }

    private NvmeStatus Read(in SubmissionEntry command)
    {
        var status = CheckRange(in command, limitToTransfer: true, out long offset, out int bytes);
        if (status != NvmeStatus.Success) return status;
        status = PrpList.TryResolve(_memory, command.Prp1, command.Prp2, bytes, _segments, out int count);
        if (status != NvmeStatus.Success) return status;
        var data = _buffer.AsSpan(0, bytes);
        if (!_storage.TryRead(offset, data)) return NvmeStatus.UnrecoveredReadError;
        return PrpList.TryScatter(_memory, _segments.AsSpan(0, count), data) ? NvmeStatus.Success : NvmeStatus.DataTransferError;
    }

    /// <summary>All guest data is gathered before the namespace is touched: a failed Write writes nothing.</summary>
    private NvmeStatus Write(in SubmissionEntry command)
    {
        var status = CheckRange(in command, limitToTransfer: true, out long offset, out int bytes);
        if (status != NvmeStatus.Success) return status;
        status = PrpList.TryResolve(_memory, command.Prp1, command.Prp2, bytes, _segments, out int count);
        if (status != NvmeStatus.Success) return status;
        var data = _buffer.AsSpan(0, bytes);
        if (!PrpList.TryGather(_memory, _segments.AsSpan(0, count), data)) return NvmeStatus.DataTransferError;
        return _storage.TryWrite(offset, data) ? NvmeStatus.Success : NvmeStatus.WriteFault;
    }

    private NvmeStatus WriteZeroes(in SubmissionEntry command)
    {
        var status = CheckRange(in command, limitToTransfer: false, out long offset, out int bytes);
        if (status != NvmeStatus.Success) return status;
        return _storage.TryWriteZeroes(offset, bytes) ? NvmeStatus.Success : NvmeStatus.WriteFault;
    }

    /// <summary>Flush applies to namespace 1 or, with the broadcast NSID, to all (which is the same).</summary>
    private NvmeStatus Flush(in SubmissionEntry command)
    {
        if (command.Nsid != NamespaceId && command.Nsid != BroadcastNsid) return NvmeStatus.InvalidNamespaceOrFormat;
        return _storage.TryFlush() ? NvmeStatus.Success : NvmeStatus.WriteFault;
    }

    /// <summary>
    /// SLBA (CDW11:CDW10) and NLB (CDW12 15:0, 0's based) must name blocks inside the namespace;
    /// data commands must also fit MDTS.
    /// </summary>
    private NvmeStatus CheckRange(in SubmissionEntry command, bool limitToTransfer, out long offset, out int bytes)
    {
        offset = 0;
        bytes = 0;
        if (command.Nsid != NamespaceId) return NvmeStatus.InvalidNamespaceOrFormat;
        ulong start = command.Cdw10 | ((ulong)command.Cdw11 << 32);
        ulong blocks = (command.Cdw12 & 0xFFFF) + 1UL;
        // Written so nothing overflows: start < count, then blocks <= count - start.
        if (start >= _blockCount || blocks > _blockCount - start) return NvmeStatus.LbaOutOfRange;
        ulong length = blocks << _options.LbaShift;
        if (limitToTransfer && length > (ulong)_options.MaxTransferBytes) return NvmeStatus.InvalidField;
        offset = (long)(start << _options.LbaShift);
        bytes = (int)length;
        return NvmeStatus.Success;
    }
}
