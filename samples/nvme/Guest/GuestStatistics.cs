using System.Buffers.Binary;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// What the guest driver counts while it runs, as it lays it out in guest memory (one 64-bit
/// little-endian word per field at <see cref="WorkloadLayout.Statistics"/>). The guest counts its
/// own doorbell writes: in ioeventfd and EventIdx modes most of them never reach the VMM.
/// </summary>
internal readonly record struct GuestStatistics(
    long DoorbellWrites,
    long DoorbellTscTicks,
    long Completions,
    long ErrorCompletions,
    uint FirstErrorStatus,
    ushort FirstErrorCommandId,
    GuestFailure Failure,
    long StartTsc,
    long EndTsc,
    long SuppressedDoorbells)
{
    // Byte offsets of each word inside the statistics block; the assembler addresses them.
    public const int DoorbellWritesOffset = 0;
    public const int DoorbellTscTicksOffset = 8;
    public const int CompletionsOffset = 16;
    public const int ErrorCompletionsOffset = 24;
    public const int FirstErrorOffset = 32;
    public const int FailureOffset = 40;
    public const int StartTscOffset = 48;
    public const int EndTscOffset = 56;
    public const int SuppressedDoorbellsOffset = 64;
    public const int Size = 72;

    public static bool TryRead(GuestMemory memory, ulong address, out GuestStatistics statistics)
    {
        Span<byte> raw = stackalloc byte[Size];
        if (!memory.TryRead(address, raw))
        {
            statistics = default;
            return false;
        }
        long firstError = Word(raw, FirstErrorOffset);
        statistics = new GuestStatistics(
            Word(raw, DoorbellWritesOffset),
            Word(raw, DoorbellTscTicksOffset),
            Word(raw, CompletionsOffset),
            Word(raw, ErrorCompletionsOffset),
            (uint)(firstError >> 16) & 0x7FFF,
            (ushort)firstError,
            (GuestFailure)Word(raw, FailureOffset),
            Word(raw, StartTscOffset),
            Word(raw, EndTscOffset),
            Word(raw, SuppressedDoorbellsOffset));
        return true;
    }

    private static long Word(ReadOnlySpan<byte> raw, int offset) => BinaryPrimitives.ReadInt64LittleEndian(raw[offset..]);
}

/// <summary>Why the guest driver stopped early.</summary>
internal enum GuestFailure
{
    None = 0,
    /// <summary>No completion arrived before the guest's TSC deadline.</summary>
    CompletionTimeout = 1,
    /// <summary>CSTS.RDY never rose after CC.EN was set (or never fell after it was cleared).</summary>
    ReadyTimeout = 2,
    /// <summary>CSTS.CFS (controller fatal status) was set while enabling.</summary>
    ControllerFatal = 3,
}
