namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// Where the fuzzer's choices come from: a seeded PRNG for the long run, or a fixed array of
/// words (CsCheck generates and shrinks those) that reads as zeroes once used up.
/// </summary>
public abstract class FuzzSource
{
    public abstract uint NextUInt();

    /// <summary>True once a finite source has run out.</summary>
    public virtual bool Exhausted => false;

    public int Next(int maxExclusive) => maxExclusive <= 1 ? 0 : (int)(NextUInt() % (uint)maxExclusive);

    public int Next(int min, int maxExclusive) => min + Next(maxExclusive - min);

    public bool Chance(int percent) => Next(100) < percent;

    public ulong NextULong() => NextUInt() | ((ulong)NextUInt() << 32);

    public T Pick<T>(ReadOnlySpan<T> items) => items[Next(items.Length)];

    public static FuzzSource FromSeed(int seed) => new RandomSource(new Random(seed));

    public static FuzzSource FromWords(uint[] words) => new WordSource(words);

    private sealed class RandomSource(Random random) : FuzzSource
    {
        public override uint NextUInt() => (uint)random.NextInt64(0, 1L << 32);
    }

    private sealed class WordSource(uint[] words) : FuzzSource
    {
        private int _next;

        public override bool Exhausted => _next >= words.Length;

        public override uint NextUInt() => _next < words.Length ? words[_next++] : 0;
    }
}
