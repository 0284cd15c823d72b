using System.Buffers.Binary;

namespace ShadowIo.Qemu.Protocol;

/// <summary>A PCI_CFGREAD / PCI_CFGWRITE payload (<c>PciConfDataMsg</c>).</summary>
internal readonly record struct ConfigAccess(uint Address, uint Value, int Length)
{
    public static ConfigAccess Parse(ReadOnlySpan<byte> payload) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(payload),
        BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]),
        BinaryPrimitives.ReadInt32LittleEndian(payload[8..]));

    public void WriteTo(Span<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(payload, Address);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[4..], Value);
        BinaryPrimitives.WriteInt32LittleEndian(payload[8..], Length);
    }
}
