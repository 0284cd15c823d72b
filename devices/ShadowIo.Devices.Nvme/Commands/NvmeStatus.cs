namespace ShadowIo.Devices.Nvme;

/// <summary>
/// A completion status: Status Code Type in bits 10:8, Status Code in bits 7:0
/// (NVMe base spec, "Status Field Definition"). Every error the controller posts is one of these.
/// </summary>
internal enum NvmeStatus : ushort
{
    Success = 0x000,

    // Generic Command Status (SCT 0).
    InvalidOpcode = 0x001,
    InvalidField = 0x002,
    DataTransferError = 0x004,
    InternalError = 0x006,
    AbortRequested = 0x007,
    AbortedSqDeletion = 0x008,
    InvalidNamespaceOrFormat = 0x00B,
    InvalidPrpOffset = 0x013,
    LbaOutOfRange = 0x080,

    // Command Specific Status (SCT 1).
    CompletionQueueInvalid = 0x100,
    InvalidQueueIdentifier = 0x101,
    InvalidQueueSize = 0x102,
    AbortCommandLimitExceeded = 0x103,
    AsyncEventRequestLimitExceeded = 0x105,
    InvalidInterruptVector = 0x108,
    InvalidLogPage = 0x109,
    InvalidQueueDeletion = 0x10C,
    FeatureNotSaveable = 0x10D,

    // Media and Data Integrity Errors (SCT 2).
    WriteFault = 0x280,
    UnrecoveredReadError = 0x281,
}

/// <summary>Encoding of <see cref="NvmeStatus"/> into the completion entry's status field.</summary>
internal static class NvmeStatusField
{
    /// <summary>Phase tag (bit 0 of the status field; bit 16 of DW3).</summary>
    public const ushort PhaseBit = 1;

    /// <summary>Do Not Retry: set on every error, since retrying the same command cannot help.</summary>
    public const ushort DoNotRetryBit = 1 << 15;

    /// <summary>Status field (upper half of DW3) for <paramref name="status"/> and phase.</summary>
    public static ushort Encode(NvmeStatus status, bool phase)
    {
        int code = (int)status & 0xFF;
        int type = ((int)status >> 8) & 0x7;
        int field = (phase ? PhaseBit : 0) | (code << 1) | (type << 9);
        if (status != NvmeStatus.Success) field |= DoNotRetryBit;
        return (ushort)field;
    }

    /// <summary>The status a completion's status field carries (phase, More and DNR dropped).</summary>
    public static NvmeStatus Decode(ushort field) => (NvmeStatus)((((field >> 9) & 0x7) << 8) | ((field >> 1) & 0xFF));
}
