namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// The statuses the NVMe spec allows for each command the controller implements (generic
/// statuses that any command may return for a malformed entry, plus the command-specific ones
/// listed in the command's section). The fuzzer rejects any other status.
/// </summary>
internal static class StatusRules
{
    private static readonly NvmeStatus[] Malformed = [NvmeStatus.InvalidField];

    private static readonly NvmeStatus[] DataTransfer =
        [NvmeStatus.InvalidField, NvmeStatus.InvalidPrpOffset, NvmeStatus.DataTransferError];

    public static bool IsAllowed(bool admin, byte opcode, NvmeStatus status)
    {
        if (status == NvmeStatus.Success && Implemented(admin, opcode)) return true;
        if (Malformed.Contains(status)) return true;
        if (!Implemented(admin, opcode)) return status == NvmeStatus.InvalidOpcode;
        return admin ? AdminAllows((AdminOpcode)opcode, status) : IoAllows((IoOpcode)opcode, status);
    }

    private static bool Implemented(bool admin, byte opcode) => admin
        ? Enum.IsDefined((AdminOpcode)opcode)
        : Enum.IsDefined((IoOpcode)opcode);

    private static bool AdminAllows(AdminOpcode opcode, NvmeStatus s) => opcode switch
    {
        AdminOpcode.CreateIoCompletionQueue => s is NvmeStatus.InvalidQueueIdentifier or NvmeStatus.InvalidQueueSize or NvmeStatus.InvalidInterruptVector or NvmeStatus.InvalidPrpOffset,
        AdminOpcode.CreateIoSubmissionQueue => s is NvmeStatus.InvalidQueueIdentifier or NvmeStatus.InvalidQueueSize or NvmeStatus.CompletionQueueInvalid or NvmeStatus.InvalidPrpOffset,
        AdminOpcode.DeleteIoCompletionQueue => s is NvmeStatus.InvalidQueueIdentifier or NvmeStatus.InvalidQueueDeletion,
        AdminOpcode.DeleteIoSubmissionQueue => s is NvmeStatus.InvalidQueueIdentifier,
        AdminOpcode.Identify => s is NvmeStatus.InvalidNamespaceOrFormat || DataTransfer.Contains(s),
        AdminOpcode.GetLogPage => s is NvmeStatus.InvalidLogPage || DataTransfer.Contains(s),
        AdminOpcode.SetFeatures => s is NvmeStatus.FeatureNotSaveable,
        AdminOpcode.GetFeatures => false,
        AdminOpcode.Abort => false,
        AdminOpcode.AsyncEventRequest => s is NvmeStatus.AsyncEventRequestLimitExceeded,
        AdminOpcode.DoorbellBufferConfig => false,
        _ => false,
    };

    private static bool IoAllows(IoOpcode opcode, NvmeStatus s) => opcode switch
    {
        IoOpcode.Read => s is NvmeStatus.InvalidNamespaceOrFormat or NvmeStatus.LbaOutOfRange or NvmeStatus.UnrecoveredReadError || DataTransfer.Contains(s),
        IoOpcode.Write => s is NvmeStatus.InvalidNamespaceOrFormat or NvmeStatus.LbaOutOfRange or NvmeStatus.WriteFault || DataTransfer.Contains(s),
        IoOpcode.WriteZeroes => s is NvmeStatus.InvalidNamespaceOrFormat or NvmeStatus.LbaOutOfRange or NvmeStatus.WriteFault,
        IoOpcode.Flush => s is NvmeStatus.InvalidNamespaceOrFormat or NvmeStatus.WriteFault,
        _ => false,
    };
}
