namespace ShadowIo.KernelGuest;

/// <summary>One guest write to a doorbell row of <see cref="DoorbellTestBlock"/>.</summary>
internal readonly record struct DoorbellWrite(int Row, ulong Value);

/// <summary>A seeded write sequence and what the emulator must see for it, whatever the mode.</summary>
internal static class DoorbellSequence
{
    private static DoorbellTable Table => DoorbellTestBlock.DoorbellTable;

    /// <summary>Every row written several times, interleaved; the datamatch doorbell also with other values.</summary>
    public static DoorbellWrite[] Create(int seed, int writesPerRow)
    {
        var random = new Random(seed);
        var writes = new List<DoorbellWrite>();
        for (int row = 0; row < Table.Count; row++)
        {
            var e = Table[row];
            for (int k = 0; k < writesPerRow; k++)
            {
                ulong value = e.HasDataMatch
                    ? (k % 2 == 0 ? e.DataMatch : e.DataMatch + 1 + (ulong)k)
                    : (ulong)random.NextInt64() & Mask(e.Width);
                writes.Add(new DoorbellWrite(row, value));
            }
        }
        return [.. writes.OrderBy(_ => random.Next())];
    }

    public static ulong Mask(int width) => width >= 8 ? ulong.MaxValue : (1UL << (width * 8)) - 1;

    /// <summary>Signals per row: every write, except non-matching writes to a datamatch doorbell.</summary>
    public static ulong[] ExpectedSignals(IEnumerable<DoorbellWrite> writes)
    {
        var expected = new ulong[Table.Count];
        foreach (var w in writes)
            if (!Table[w.Row].HasDataMatch || Table[w.Row].DataMatch == w.Value) expected[w.Row]++;
        return expected;
    }

    /// <summary>The last value written to each value row (0 for notify rows).</summary>
    public static ulong[] ExpectedLastValues(IEnumerable<DoorbellWrite> writes)
    {
        var last = new ulong[Table.Count];
        foreach (var w in writes)
            if (Table[w.Row].Kind == DoorbellKind.Value) last[w.Row] = w.Value;
        return last;
    }

    /// <summary>Writes that miss their datamatch: they reach the device's dispatch, in order.</summary>
    public static (int Row, ulong Value)[] ExpectedDispatched(IEnumerable<DoorbellWrite> writes) =>
        [.. writes.Where(w => Table[w.Row].HasDataMatch && Table[w.Row].DataMatch != w.Value).Select(w => (w.Row, w.Value))];
}
