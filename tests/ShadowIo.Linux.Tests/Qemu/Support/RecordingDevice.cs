using System.Collections.Concurrent;

namespace ShadowIo.Linux.Tests.Qemu.Support;

/// <summary>A device whose registers read back what was written (unwritten ones read 0xA5A5 ^ offset).</summary>
internal sealed class RecordingDevice : IMmioDevice
{
    public ConcurrentDictionary<ulong, ulong> Registers { get; } = new();
    public ConcurrentQueue<(ulong Offset, int Size, ulong Value)> Writes { get; } = new();
    public int Resets;

    public ulong ReadMmio(ulong offset, int size) =>
        Registers.TryGetValue(offset, out ulong v) ? v : 0xA5A5UL ^ offset;

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        Writes.Enqueue((offset, size, value));
        Registers[offset] = value;
    }
}
