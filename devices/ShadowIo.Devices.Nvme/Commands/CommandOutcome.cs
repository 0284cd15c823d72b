namespace ShadowIo.Devices.Nvme;

/// <summary>What executing a command produced: a status and DW0, or "completes later" (an AER).</summary>
internal readonly record struct CommandOutcome(NvmeStatus Status, uint Result, bool Deferred)
{
    public static readonly CommandOutcome Success = new(NvmeStatus.Success, 0, false);

    public static readonly CommandOutcome Later = new(NvmeStatus.Success, 0, true);

    public static CommandOutcome WithResult(uint result) => new(NvmeStatus.Success, result, false);

    public static implicit operator CommandOutcome(NvmeStatus status) => new(status, 0, false);
}
