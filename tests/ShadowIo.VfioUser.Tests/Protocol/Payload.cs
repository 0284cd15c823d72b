using System.Buffers.Binary;

namespace ShadowIo.VfioUser.Tests.Protocol;

/// <summary>Builds payloads field by field, as a peer writes them (little-endian, x86_64).</summary>
internal sealed class Payload
{
    private readonly List<byte> _bytes = [];

    public Payload U16(ushort value) => Add(BitConverter.GetBytes(value));

    public Payload U32(uint value) => Add(BitConverter.GetBytes(value));

    public Payload U64(ulong value) => Add(BitConverter.GetBytes(value));

    public Payload Bytes(params byte[] bytes) => Add(bytes);

    public byte[] ToArray() => [.. _bytes];

    public static implicit operator byte[](Payload payload) => payload.ToArray();

    public static uint ReadU32(ReadOnlySpan<byte> bytes, int at) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[at..]);

    public static ulong ReadU64(ReadOnlySpan<byte> bytes, int at) => BinaryPrimitives.ReadUInt64LittleEndian(bytes[at..]);

    private Payload Add(byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }
}
