namespace ShadowIo.Devices.Nvme;

/// <summary>Admin command opcodes the controller implements (NVMe base spec, figure "Opcodes for Admin Commands").</summary>
internal enum AdminOpcode : byte
{
    DeleteIoSubmissionQueue = 0x00,
    CreateIoSubmissionQueue = 0x01,
    GetLogPage = 0x02,
    DeleteIoCompletionQueue = 0x04,
    CreateIoCompletionQueue = 0x05,
    Identify = 0x06,
    Abort = 0x08,
    SetFeatures = 0x09,
    GetFeatures = 0x0A,
    AsyncEventRequest = 0x0C,
    DoorbellBufferConfig = 0x7C,
}

/// <summary>NVM command set I/O opcodes the controller implements.</summary>
internal enum IoOpcode : byte
{
    Flush = 0x00,
    Write = 0x01,
    Read = 0x02,
    WriteZeroes = 0x08,
}

/// <summary>Identify CNS values (CDW10 bits 7:0).</summary>
internal enum IdentifyCns : byte
{
    Namespace = 0x00,
    Controller = 0x01,
    ActiveNamespaceList = 0x02,
    NamespaceDescriptorList = 0x03,
}

/// <summary>Feature identifiers accepted by Get/Set Features.</summary>
internal enum FeatureId : byte
{
    Arbitration = 0x01,
    PowerManagement = 0x02,
    TemperatureThreshold = 0x04,
    ErrorRecovery = 0x05,
    VolatileWriteCache = 0x06,
    NumberOfQueues = 0x07,
    InterruptCoalescing = 0x08,
    InterruptVectorConfiguration = 0x09,
    WriteAtomicityNormal = 0x0A,
    AsyncEventConfiguration = 0x0B,
}

/// <summary>Log page identifiers accepted by Get Log Page.</summary>
internal enum LogPageId : byte
{
    ErrorInformation = 0x01,
    SmartHealth = 0x02,
    FirmwareSlot = 0x03,
}
