using System.Buffers.Binary;

namespace ShadowIo.Devices.Nvme;

/// <summary>Admin command set (NVMe base spec section 5).</summary>
public sealed partial class NvmeController
{
    private const uint BroadcastNsid = 0xFFFF_FFFF;

    private CommandOutcome ExecuteAdmin(in SubmissionEntry command)
    {
        // Fused operations and SGLs are not supported (Identify SGLS = 0).
        if (command.Fuse != 0 || command.Psdt != 0) return NvmeStatus.InvalidField;
        return (AdminOpcode)command.Opcode switch
        {
            AdminOpcode.CreateIoCompletionQueue => CreateCompletionQueue(in command),
            AdminOpcode.CreateIoSubmissionQueue => CreateSubmissionQueue(in command),
            AdminOpcode.DeleteIoCompletionQueue => DeleteCompletionQueue(in command),
            AdminOpcode.DeleteIoSubmissionQueue => DeleteSubmissionQueue(in command),
            AdminOpcode.Identify => Identify(in command),
            AdminOpcode.GetLogPage => GetLogPage(in command),
            AdminOpcode.SetFeatures => SetFeatures(in command),
            AdminOpcode.GetFeatures => GetFeatures(in command),
            AdminOpcode.Abort => Abort(in command),
            AdminOpcode.AsyncEventRequest => AsyncEventRequest(in command),
            AdminOpcode.DoorbellBufferConfig => DoorbellBufferConfig(in command),
            _ => NvmeStatus.InvalidOpcode,
        };
    }

    private CommandOutcome Identify(in SubmissionEntry command)
    {
        var data = _buffer.AsSpan(0, IdentifyData.Size);
        switch ((IdentifyCns)(byte)command.Cdw10)
        {
            case IdentifyCns.Controller:
                IdentifyData.WriteController(data, _options, Registers.Vs);
                break;
            case IdentifyCns.Namespace:
                if (command.Nsid != NamespaceId) return NvmeStatus.InvalidNamespaceOrFormat;
                IdentifyData.WriteNamespace(data, _blockCount, _options.LbaShift);
                break;
            case IdentifyCns.ActiveNamespaceList:
                if (command.Nsid >= 0xFFFF_FFFE) return NvmeStatus.InvalidNamespaceOrFormat;
                IdentifyData.WriteActiveNamespaceList(data, command.Nsid);
                break;
            case IdentifyCns.NamespaceDescriptorList:
                if (command.Nsid != NamespaceId) return NvmeStatus.InvalidNamespaceOrFormat;
                IdentifyData.WriteNamespaceDescriptors(data, _namespaceUuid);
                break;
            default:
                return NvmeStatus.InvalidField;
        }
        return CopyToGuest(in command, data);
    }

    /// <summary>Get Log Page (5.16): NUMD dwords from byte offset LPO of the page.</summary>
    private CommandOutcome GetLogPage(in SubmissionEntry command)
    {
        ulong dwords = (((ulong)(command.Cdw11 & 0xFFFF) << 16) | (command.Cdw10 >> 16)) + 1;
        ulong offset = command.Cdw12 | ((ulong)command.Cdw13 << 32);
        if (dwords * 4 > (ulong)_options.MaxTransferBytes || (offset & 0x3) != 0) return NvmeStatus.InvalidField;
        int length = (int)dwords * 4;

        Span<byte> log = _logPage; // not stackalloc: controller code makes no pointers, its own stack's included
        log.Clear();
        int logSize;
        switch ((LogPageId)(byte)command.Cdw10)
        {
            case LogPageId.ErrorInformation:
                _errorLog.CopyTo(log);
                logSize = _errorLog.SizeInBytes;
                break;
            case LogPageId.SmartHealth:
                logSize = 512;
                log[..logSize].Clear();
                BinaryPrimitives.WriteUInt16LittleEndian(log[1..], 0x0127); // Composite temperature: 295 K.
                log[3] = 100; // Available spare %.
                log[4] = 10;  // Available spare threshold %.
                break;
            case LogPageId.FirmwareSlot:
                logSize = 512;
                log[..logSize].Clear();
                log[0] = 1; // Active firmware slot 1.
                System.Text.Encoding.ASCII.GetBytes(_options.FirmwareRevision.PadRight(8).AsSpan(0, 8), log[8..16]);
                break;
            default:
                return NvmeStatus.InvalidLogPage;
        }
        if (offset >= (ulong)logSize) return NvmeStatus.InvalidField;

        var data = _buffer.AsSpan(0, length);
        data.Clear();
        int available = logSize - (int)offset;
        log.Slice((int)offset, Math.Min(available, length)).CopyTo(data);
        var status = CopyToGuest(in command, data);
        // Reading the page without Retain Asynchronous Event (CDW10 bit 15) clears the event type.
        bool retain = (command.Cdw10 & (1 << 15)) != 0;
        if (status == NvmeStatus.Success && !retain)
        {
            var type = (LogPageId)(byte)command.Cdw10 == LogPageId.SmartHealth ? AsyncEventType.SmartHealthStatus : AsyncEventType.ErrorStatus;
            if ((LogPageId)(byte)command.Cdw10 != LogPageId.FirmwareSlot) _asyncEvents.Unmask(type);
        }
        return status;
    }

    private CommandOutcome SetFeatures(in SubmissionEntry command)
    {
        byte fid = (byte)command.Cdw10;
        if (!FeatureSet.IsSupported(fid)) return NvmeStatus.InvalidField;
        if ((command.Cdw10 & 0x8000_0000) != 0) return NvmeStatus.FeatureNotSaveable;
        uint value = command.Cdw11;
        if ((FeatureId)fid == FeatureId.NumberOfQueues)
        {
            // 0's based counts; 65535 (65536 queues) is invalid. Allocate what we have.
            uint sqs = value & 0xFFFF, cqs = value >> 16;
            if (sqs == 0xFFFF || cqs == 0xFFFF) return NvmeStatus.InvalidField;
            uint max = NvmeRegisters.MaxIoQueues - 1;
            value = Math.Min(sqs, max) | (Math.Min(cqs, max) << 16);
            _features.Set(FeatureId.NumberOfQueues, value);
            return CommandOutcome.WithResult(value);
        }
        _features.Set((FeatureId)fid, value);
        return CommandOutcome.Success;
    }

    private CommandOutcome GetFeatures(in SubmissionEntry command)
    {
        byte fid = (byte)command.Cdw10;
        if (!FeatureSet.IsSupported(fid)) return NvmeStatus.InvalidField;
        return ((command.Cdw10 >> 8) & 0x7) switch
        {
            0 or 2 => CommandOutcome.WithResult(_features.Current((FeatureId)fid)), // Current; saved = current (nothing saveable).
            1 => CommandOutcome.WithResult(_features.Default((FeatureId)fid)),
            3 => CommandOutcome.WithResult(0b100), // Supported capabilities: changeable, not saveable.
            _ => NvmeStatus.InvalidField,
        };
    }

    /// <summary>
    /// Abort (5.1): commands are executed as they are fetched, so by the time an Abort runs its
    /// target has completed; DW0 bit 0 = 1 reports "not aborted", as the spec allows.
    /// </summary>
    private CommandOutcome Abort(in SubmissionEntry command) => CommandOutcome.WithResult(1);

    /// <summary>Asynchronous Event Request (5.2): completes when an event occurs; AERL limits how many wait.</summary>
    private CommandOutcome AsyncEventRequest(in SubmissionEntry command)
    {
        if (!_asyncEvents.TryAddRequest(command.CommandId)) return NvmeStatus.AsyncEventRequestLimitExceeded;
        return CommandOutcome.Later;
    }

    /// <summary>
    /// Doorbell Buffer Config (5.8): PRP1 = shadow doorbell page, PRP2 = EventIdx page. Both must be
    /// page aligned (QEMU), distinct (SPDK) and wholly guest RAM; otherwise Invalid Field.
    /// </summary>
    private CommandOutcome DoorbellBufferConfig(in SubmissionEntry command)
    {
        ulong shadow = command.Prp1, eventIdx = command.Prp2;
        if (((shadow | eventIdx) & (PrpList.PageSize - 1)) != 0 || shadow == eventIdx) return NvmeStatus.InvalidField;
        if (!_memory.TryGetShadowRegion(shadow, PrpList.PageSize, out var shadowRegion)
            || !_memory.TryGetShadowRegion(eventIdx, PrpList.PageSize, out var eventIdxRegion))
        {
            return NvmeStatus.InvalidField;
        }
        ActivateDoorbellBuffer(new DoorbellBufferPages(shadow, eventIdx, shadowRegion, eventIdxRegion));
        return CommandOutcome.Success;
    }

    /// <summary>Copies controller data out through the command's PRPs.</summary>
    private NvmeStatus CopyToGuest(in SubmissionEntry command, ReadOnlySpan<byte> data)
    {
        var status = PrpList.TryResolve(_memory, command.Prp1, command.Prp2, data.Length, _segments, out int count);
        if (status != NvmeStatus.Success) return status;
        return PrpList.TryScatter(_memory, _segments.AsSpan(0, count), data) ? NvmeStatus.Success : NvmeStatus.DataTransferError;
    }
}
