namespace ShadowIo.Devices.Nvme;

/// <summary>Fixed properties of an emulated controller (what CAP and Identify report).</summary>
public sealed record NvmeControllerOptions
{
    /// <summary>log2 of the LBA size: 9 (512-byte blocks) or 12 (4 KiB blocks).</summary>
    public int LbaShift { get; init; } = 9;

    /// <summary>CAP.MQES + 1: the largest queue the host may create.</summary>
    public int MaxQueueEntries { get; init; } = 1024;

    /// <summary>Identify MDTS: largest transfer is 2^MDTS pages (5 → 128 KiB).</summary>
    public int MaxDataTransferShift { get; init; } = 5;

    /// <summary>Identify SN (ASCII, at most 20 characters); also seeds the namespace's UUID.</summary>
    public string SerialNumber { get; init; } = "SHADOWIO0001";

    /// <summary>Identify MN (ASCII, at most 40 characters).</summary>
    public string ModelNumber { get; init; } = "ShadowIo NVMe";

    /// <summary>Identify FR and the firmware slot log's slot 1 (ASCII, at most 8 characters).</summary>
    public string FirmwareRevision { get; init; } = "1.0";

    internal int MaxTransferBytes => PrpList.PageSize << MaxDataTransferShift;

    internal void Validate()
    {
        if (LbaShift is not (9 or 12)) throw new ArgumentOutOfRangeException(nameof(LbaShift), LbaShift, "LBA size must be 512 or 4096 bytes.");
        if (MaxQueueEntries is < 2 or > 65536) throw new ArgumentOutOfRangeException(nameof(MaxQueueEntries), MaxQueueEntries, "Queue entries must be 2..65536.");
        if (MaxDataTransferShift is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(MaxDataTransferShift), MaxDataTransferShift, "MDTS must be 1..8.");
    }
}
