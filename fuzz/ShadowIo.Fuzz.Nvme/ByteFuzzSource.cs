using System.Buffers.Binary;

namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// A <see cref="FuzzSource"/> over a fuzzer's input bytes (AFL++ through SharpFuzz): every choice
/// of the episode is the next four bytes, little-endian, so a mutated byte changes one choice.
/// A short last word is zero-padded; past the end the source reads zeroes and is exhausted.
/// </summary>
internal sealed class ByteFuzzSource(ReadOnlyMemory<byte> bytes) : FuzzSource
{
    private int _next;

    public override bool Exhausted => _next >= bytes.Length;

    public override uint NextUInt()
    {
        var span = bytes.Span;
        if (_next >= span.Length) return 0;
        uint value;
        if (span.Length - _next >= 4)
        {
            value = BinaryPrimitives.ReadUInt32LittleEndian(span[_next..]);
        }
        else
        {
            Span<byte> word = stackalloc byte[4];
            word.Clear();
            span[_next..].CopyTo(word);
            value = BinaryPrimitives.ReadUInt32LittleEndian(word);
        }
        _next += 4;
        return value;
    }
}
