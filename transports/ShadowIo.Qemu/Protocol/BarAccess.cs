using System.Buffers.Binary;

namespace ShadowIo.Qemu.Protocol;

/// <summary>
/// A BAR_READ / BAR_WRITE payload (<c>BarAccessMsg</c>). <see cref="Address"/> is absolute: the
/// proxy adds the BAR's current base (a guest-physical address, or an I/O port when
/// <see cref="IsMemory"/> is false) to the offset, so the remote tracks BAR bases itself.
/// </summary>
internal readonly record struct BarAccess(ulong Address, ulong Value, uint Size, bool IsMemory)
{
    public static BarAccess Parse(ReadOnlySpan<byte> payload) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(payload),
        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(payload[16..]),
        payload[20] != 0);

    public void WriteTo(Span<byte> payload)
    {
        payload[..MpqemuWire.BarAccessSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(payload, Address);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], Value);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[16..], Size);
        payload[20] = IsMemory ? (byte)1 : (byte)0;
    }
}
