using System.Buffers.Binary;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// Distinct, reproducible contents for every block of every pass: each 8-byte word is a hash of
/// (pass, block, word), so a block read back from the wrong LBA, a stale pass or a torn transfer
/// never matches by accident.
/// </summary>
internal static class DataPatterns
{
    public static void Fill(Span<byte> block, int pass, long blockIndex)
    {
        for (int word = 0; word * 8 < block.Length; word++)
            BinaryPrimitives.WriteUInt64LittleEndian(block[(word * 8)..], Word(pass, blockIndex, word));
    }

    public static bool Matches(ReadOnlySpan<byte> block, int pass, long blockIndex)
    {
        for (int word = 0; word * 8 < block.Length; word++)
            if (BinaryPrimitives.ReadUInt64LittleEndian(block[(word * 8)..]) != Word(pass, blockIndex, word)) return false;
        return true;
    }

    /// <summary>SplitMix64 finalizer over the packed coordinates.</summary>
    private static ulong Word(int pass, long blockIndex, int word)
    {
        ulong z = ((ulong)(uint)pass << 56) ^ ((ulong)blockIndex << 20) ^ (uint)word;
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
