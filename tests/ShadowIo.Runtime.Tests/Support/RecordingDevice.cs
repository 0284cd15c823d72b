namespace ShadowIo.Runtime.Tests.Support;

/// <summary>An MMIO device that records what reaches it.</summary>
internal sealed class RecordingDevice(ulong readValue = 0) : IMmioDevice
{
    public List<(ulong Offset, int Size, ulong Value)> Writes { get; } = [];
    public List<(ulong Offset, int Size)> Reads { get; } = [];

    public ulong ReadMmio(ulong offset, int size)
    {
        Reads.Add((offset, size));
        return readValue;
    }

    public void WriteMmio(ulong offset, int size, ulong value) => Writes.Add((offset, size, value));
}
