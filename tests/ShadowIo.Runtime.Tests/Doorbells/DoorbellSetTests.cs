using Tmds.Linux;
using ShadowIo.Native;
using ShadowIo.Runtime.Tests.Blocks;

namespace ShadowIo.Runtime.Tests.Doorbells;

/// <summary>The VM-less doorbell stack every transport builds on: no KVM needed.</summary>
public sealed class DoorbellSetTests
{
    private static DoorbellTable Table => TestDoorbellBlock.DoorbellTable;

    [Fact]
    public void A_trapped_write_stores_the_value_then_signals_and_the_wait_set_reports_its_row()
    {
        using var set = DoorbellSet.Create(Table);
        using var events = new DoorbellEvents();
        int source = events.Add(set);
        var fired = new DoorbellEvent[8];

        Assert.True(set.TryHandleWrite(TestDoorbellBlock.DoorbellTable[TestDoorbellBlock.DoorbellIndex.SqTail + 2].Offset, 4, 0x1234_5678));
        Assert.True(set.TryHandleWrite(TestDoorbellBlock.DoorbellTable[TestDoorbellBlock.DoorbellIndex.SqTail + 2].Offset, 4, 0x42));

        Assert.Equal(1, events.Wait(fired, 1000));
        Assert.Equal(new DoorbellEvent(source, TestDoorbellBlock.DoorbellIndex.SqTail + 2) { Signals = 2 }, fired[0]);
        Assert.Equal(0x42u, new TestDoorbellBlock.DoorbellReader(set.Shadow).SqTail(2));
        Assert.Equal(2, set.TrappedWrites);
        Assert.Equal(0, events.Wait(fired, 0));
    }

    [Fact]
    public void Writes_KVM_would_not_match_fall_through_to_the_device()
    {
        using var set = DoorbellSet.Create(Table);
        ulong sq0 = Table[TestDoorbellBlock.DoorbellIndex.SqTail].Offset;
        ulong kick = Table[TestDoorbellBlock.DoorbellIndex.Kick].Offset;
        Assert.False(set.TryHandleWrite(sq0, 2, 1));                                           // wrong width
        Assert.False(set.TryHandleWrite(sq0 + 1, 4, 1));                                       // not at the doorbell
        Assert.False(set.TryHandleWrite(kick, 4, TestDoorbellBlock.KickDataMatch + 1));        // datamatch differs
        Assert.False(set.TryHandleWrite(ulong.MaxValue, 8, 0));                                // far outside the block
        Assert.True(set.TryHandleWrite(kick, 4, TestDoorbellBlock.KickDataMatch | 0xFFFF_FFFF_0000_0000)); // KVM compares the low 4 bytes
        Assert.Equal(1ul, set.TakeSignals(TestDoorbellBlock.DoorbellIndex.Kick));
        Assert.Equal(0ul, set.TakeSignals(TestDoorbellBlock.DoorbellIndex.SqTail));
        Assert.Equal(1, set.TrappedWrites);
    }

    [Fact]
    public void Rows_the_include_filter_leaves_out_have_no_eventfd_and_are_not_trapped()
    {
        using var set = DoorbellSet.Create(Table, static e => e.Element != 0);
        Assert.False(set.IsBound(TestDoorbellBlock.DoorbellIndex.SqTail));
        Assert.False(set.TryHandleWrite(Table[TestDoorbellBlock.DoorbellIndex.SqTail].Offset, 4, 1));
        Assert.True(set.IsBound(TestDoorbellBlock.DoorbellIndex.SqTail + 1));
        Assert.True(set.TryHandleWrite(Table[TestDoorbellBlock.DoorbellIndex.SqTail + 1].Offset, 4, 1));
    }

    [Theory]
    [InlineData(3, 0x100, 0)]        // width
    [InlineData(4, 0x0FFE, 0)]       // runs past the block
    [InlineData(4, 0x100, 4094)]     // shadow slot past the page
    [InlineData(4, 0x100, -1)]       // value doorbell without a slot
    public void A_malformed_hand_built_table_is_refused_before_any_guest_write(int width, ulong offset, int shadowOffset)
    {
        var table = new DoorbellTable("bad block", 0x1000, 8,
        [
            new DoorbellEntry("Tail", 0, offset, width, DoorbellKind.Value, false, 0, shadowOffset),
        ]);
        Assert.Throws<ArgumentException>(() => DoorbellSet.Create(table));
    }

    /// <summary>
    /// The shadow memfd goes to peers (IOEVENTFD_SHADOW entries, a mapped doorbell page): one that
    /// shrinks it would make the device's next read of the page SIGBUS. The size is sealed, so
    /// ftruncate fails with EPERM for every holder, and no one can add or remove a seal.
    /// </summary>
    [Fact]
    public void A_peer_cannot_resize_the_shadow_memfd_it_is_handed()
    {
        using var set = DoorbellSet.Create(Table);
        int peer = LibC.dup(set.ShadowFd);
        try
        {
            Assert.Equal(-1, LibC.ftruncate(peer, 0));
            Assert.Equal(LibC.EPERM, LibC.errno);
            Assert.Equal(-1, LibC.ftruncate(peer, 1 << 20));
            Assert.Equal(-1, LibC.fcntl(peer, LibC.F_ADD_SEALS, LibC.F_SEAL_WRITE));
        }
        finally
        {
            LibC.close(peer);
        }
        Assert.True(set.TryHandleWrite(Table[TestDoorbellBlock.DoorbellIndex.SqTail].Offset, 4, 7));
    }

    [Fact]
    public void After_dispose_nothing_is_trapped_and_every_accessor_is_harmless()
    {
        var set = DoorbellSet.Create(Table);
        ulong sq0 = Table[TestDoorbellBlock.DoorbellIndex.SqTail].Offset;
        Assert.True(set.TryHandleWrite(sq0, 4, 1));
        set.Dispose();
        set.Dispose();
        Assert.False(set.TryHandleWrite(sq0, 4, 2));
        Assert.Equal(0ul, set.TakeSignals(TestDoorbellBlock.DoorbellIndex.SqTail));
        Assert.Equal(-1, set.ShadowFd);
        Assert.True(set.Shadow.IsEmpty);
    }

    /// <summary>
    /// Issue 12: a trap running on one thread while another disposes must never write the
    /// unmapped page, never signal a closed-and-reused fd, and never throw. Two trap threads
    /// hammer the set; it is disposed under them; fresh eventfds then take the lowest free
    /// numbers (the ones just closed) and a fresh mapping is made, while the traps keep going.
    /// Without rundown protection the first trap after the unmap crashes the process (SIGSEGV),
    /// and one caught between its fd read and its write() signals whichever new eventfd got the number.
    /// </summary>
    [Fact]
    public void Traps_racing_dispose_never_touch_the_freed_page_or_a_reused_fd()
    {
        ulong[] offsets = [.. Enumerable.Range(0, 4).Select(q => Table[TestDoorbellBlock.DoorbellIndex.SqTail + q].Offset)];
        for (int round = 0; round < 40; round++)
        {
            var set = DoorbellSet.Create(Table);
            long accepted = 0;
            bool stop = false;
            Exception? failure = null;
            var traps = Enumerable.Range(0, 2).Select(t => new Thread(() =>
            {
                try
                {
                    for (ulong v = (ulong)t; !Volatile.Read(ref stop); v++)
                    {
                        if (set.TryHandleWrite(offsets[v % 4], 4, v)) Interlocked.Increment(ref accepted);
                    }
                }
                catch (Exception e)
                {
                    Volatile.Write(ref failure, e);
                }
            }) { IsBackground = true }).ToArray();
            foreach (var t in traps) t.Start();
            Assert.True(SpinWait.SpinUntil(() => set.TrappedWrites > 200, TimeSpan.FromSeconds(30)));

            set.Dispose();
            long trappedAtDispose = set.TrappedWrites;
            var reused = Enumerable.Range(0, 32).Select(i => EventFd.Create($"reuse {i}")).ToArray();
            using var page = MemoryMapping.CreateMemfd("shadowio-reuse", 4096);
            Thread.Sleep(2);
            Volatile.Write(ref stop, true);
            foreach (var t in traps) t.Join();

            Assert.Null(failure);
            Assert.Equal(trappedAtDispose, set.TrappedWrites);       // nothing completed after Dispose returned
            Assert.Equal(trappedAtDispose, Interlocked.Read(ref accepted));
            foreach (var fd in reused)
            {
                Assert.Equal(0ul, fd.Drain());
                fd.Dispose();
            }
        }
    }
}
