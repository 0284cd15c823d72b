using Iced.Intel;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Harness;

/// <summary>The harness's table-driven doorbell traffic covers what it promises (no guest runs here).</summary>
public sealed class DoorbellSequenceTests
{
    private static DoorbellTable Table => TestDoorbellBlock.DoorbellTable;

    [Fact]
    public void A_sequence_writes_every_row_as_often_as_asked_with_datamatch_hits_and_misses_and_is_seeded()
    {
        var writes = DoorbellSequence.Create(Table, seed: 11, writesPerRow: 4);

        Assert.Equal(DoorbellSequence.Create(Table, seed: 11, writesPerRow: 4), writes);
        Assert.All(Enumerable.Range(0, Table.Count), row => Assert.Equal(4, writes.Count(w => w.Row == row)));
        Assert.All(writes, w => Assert.Equal(w.Value, w.Value & DoorbellSequence.Mask(Table[w.Row].Width)));
        int kick = TestDoorbellBlock.DoorbellIndex.Kick;
        Assert.Contains(writes, w => w.Row == kick && w.Value == TestDoorbellBlock.KickDataMatch);
        Assert.Contains(writes, w => w.Row == kick && w.Value != TestDoorbellBlock.KickDataMatch);
    }

    [Fact]
    public void Every_write_either_signals_or_is_dispatched_and_value_rows_keep_their_last_write()
    {
        var writes = DoorbellSequence.Create(Table, seed: 12);

        var signals = DoorbellSequence.ExpectedSignals(Table, writes);
        var dispatched = DoorbellSequence.ExpectedDispatched(Table, writes);
        var last = DoorbellSequence.ExpectedLastValues(Table, writes);

        Assert.Equal((ulong)writes.Length, signals.Aggregate(0UL, (sum, s) => sum + s) + (ulong)dispatched.Length);
        Assert.All(dispatched, d => Assert.True(Table[d.Row].HasDataMatch && Table[d.Row].DataMatch != d.Value));
        for (int row = 0; row < Table.Count; row++)
            Assert.Equal(Table[row].Kind == DoorbellKind.Value ? writes.Last(w => w.Row == row).Value : 0, last[row]);
    }

    [Fact]
    public void Emitted_writes_are_one_store_of_the_doorbell_width_each_after_the_guest_shadow_store_when_there_is_one()
    {
        const ulong block = 0xFE00_0000, shadow = GuestLayout.Data;
        var writes = DoorbellSequence.Create(Table, seed: 13, writesPerRow: 1);
        var withShadow = new Assembler(64);
        var withoutShadow = new Assembler(64);

        DoorbellSequence.EmitWrites(withShadow, Table, block, shadow, writes);
        DoorbellSequence.EmitWrites(withoutShadow, Table, block, guestShadowGpa: null, writes);

        var expected = new List<(int Displacement, int Bytes)>();
        foreach (var w in writes)
        {
            var e = Table[w.Row];
            if (e.Kind == DoorbellKind.Value) expected.Add((e.ShadowOffset, e.Width));
            expected.Add(((int)e.Offset, e.Width));
        }
        Assert.Equal(expected, Stores(withShadow));
        Assert.Equal(writes.Select(w => ((int)Table[w.Row].Offset, Table[w.Row].Width)), Stores(withoutShadow));
    }

    [Fact]
    public void A_store_of_a_width_no_guest_access_has_is_refused()
    {
        var a = new Assembler(64);

        Assert.Throws<ArgumentOutOfRangeException>(() => DoorbellSequence.Store(a, rbx, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => DoorbellSequence.Store(a, rbx, 0, 16));
    }

    /// <summary>(displacement, bytes) of each store to memory, in order.</summary>
    private static (int Displacement, int Bytes)[] Stores(Assembler a) =>
        a.Instructions
            .Where(i => i.Mnemonic == Mnemonic.Mov && i.Op0Kind == OpKind.Memory)
            .Select(i => ((int)i.MemoryDisplacement64, i.MemorySize switch
            {
                MemorySize.UInt8 => 1,
                MemorySize.UInt16 => 2,
                MemorySize.UInt32 => 4,
                _ => 8,
            })).ToArray();
}
