using System.Collections.Concurrent;

namespace ShadowIo.Linux.Tests.VfioUser;

/// <summary>A device whose registers read back what was written (unwritten ones read 0xA5A5 ^ offset).</summary>
internal sealed class RecordingDevice : IMmioDevice
{
    public const ulong Bar0Size = 0x4000;
    public const ulong SqTailOffset = 0x1000;   // value doorbell, 4 bytes, shadow offset 0
    public const ulong CqHeadOffset = 0x1004;   // value doorbell, 4 bytes, shadow offset 4
    public const ulong KickOffset = 0x1100;     // notify doorbell, datamatch 1

    /// <summary>The doorbells of its BAR0: two value doorbells and a notify doorbell with a datamatch.</summary>
    public static DoorbellTable CreateTable() => new("test block", Bar0Size, 8,
    [
        new DoorbellEntry("SqTail", 0, SqTailOffset, 4, DoorbellKind.Value, false, 0, 0),
        new DoorbellEntry("CqHead", 0, CqHeadOffset, 4, DoorbellKind.Value, false, 0, 4),
        new DoorbellEntry("Kick", 0, KickOffset, 2, DoorbellKind.Notify, true, 1, -1),
    ]);

    public ConcurrentDictionary<ulong, ulong> Registers { get; } = new();
    public ConcurrentQueue<(ulong Offset, int Size, ulong Value)> Writes { get; } = new();

    public ulong ReadMmio(ulong offset, int size) =>
        Registers.TryGetValue(offset, out ulong v) ? v : 0xA5A5UL ^ offset;

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        Writes.Enqueue((offset, size, value));
        Registers[offset] = value;
    }
}
