using ShadowIo.Samples.Nvme.Guest;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>The workload's options after parsing, checked before any VM is created.</summary>
internal sealed record WorkloadOptions
{
    /// <summary>Bytes per I/O and per block of the workload (one guest page).</summary>
    public const int BlockBytes = WorkloadLayout.PageSize;

    public const int DefaultBlocks = 4096;
    public const int MaxBlocks = 65536;
    public const int DefaultQueueDepth = 32;
    public const int MaxQueueDepth = 1023;
    public const int DefaultRounds = 3;
    public const int MaxRounds = 100;

    /// <summary>A file to back the namespace; null for a memory-backed namespace.</summary>
    public string? BackingFile { get; init; }

    public int Blocks { get; init; } = DefaultBlocks;

    /// <summary>The depth of the second measured phase (the first runs at depth 1).</summary>
    public int QueueDepth { get; init; } = DefaultQueueDepth;

    /// <summary>Write/read/verify cycles per mode; rates are the best round's.</summary>
    public int Rounds { get; init; } = DefaultRounds;

    public IReadOnlyList<WorkloadMode> Modes { get; init; } = WorkloadModes.All;

    public bool Json { get; init; }

    /// <summary>Where the controller runs.</summary>
    public WorkloadTransport Transport { get; init; } = WorkloadTransport.InProcess;

    public string KvmDevice { get; init; } = ShadowIo.Kvm.KvmSystem.DefaultPath;

    /// <summary>Bytes the namespace must hold: every block the workload writes.</summary>
    public long RequiredBytes => (long)Blocks * BlockBytes;

    /// <summary>
    /// Checks what the parser cannot: that the backing file exists, can be opened for reading
    /// and writing, and is large enough.
    /// </summary>
    /// <exception cref="UserErrorException">With one sentence naming the file and the problem.</exception>
    public void CheckBackingFile()
    {
        if (BackingFile is null) return;
        if (Directory.Exists(BackingFile))
            throw new UserErrorException($"backing file '{BackingFile}' is a directory.");
        if (!File.Exists(BackingFile))
            throw new UserErrorException($"backing file '{BackingFile}' does not exist (create one with: truncate -s {RequiredBytes} {BackingFile}).");
        long length;
        try
        {
            using var stream = new FileStream(BackingFile, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            length = stream.Length;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UserErrorException($"backing file '{BackingFile}' cannot be opened for reading and writing: {e.Message}", e);
        }
        if (length < RequiredBytes)
            throw new UserErrorException(
                $"backing file '{BackingFile}' holds {length} bytes; {Blocks} blocks of {BlockBytes} bytes need {RequiredBytes} (grow it with: truncate -s {RequiredBytes} {BackingFile}).");
    }
}
