using ShadowIo.Runtime.Tests.Blocks;

namespace ShadowIo.Runtime.Tests.Doorbells;

/// <summary>
/// Issue 13 §2 without a VM: several datamatch doorbells on one address, the trap path every
/// transport uses (a KVM exit, a region write from a vfio-user client) fires exactly
/// the row whose datamatch equals the written bytes, and a hand-built table that KVM would refuse
/// is refused.
/// </summary>
public sealed class SharedAddressDoorbellSetTests
{
    private static DoorbellTable Table => QueueNotifyBlock.DoorbellTable;

    [Fact]
    public void The_table_finds_exactly_the_row_whose_datamatch_the_bytes_equal()
    {
        for (int queue = 0; queue < QueueNotifyBlock.Queues; queue++)
        {
            Assert.True(Table.TryFind(QueueNotifyBlock.QueueNotifyOffset, 4, (ulong)queue, out int row));
            Assert.Equal(QueueNotifyBlock.DoorbellIndex.Queue0 + queue, row);
        }

        Assert.False(Table.TryFind(QueueNotifyBlock.QueueNotifyOffset, 4, QueueNotifyBlock.Queues, out _));
        Assert.False(Table.TryFind(QueueNotifyBlock.QueueNotifyOffset, 2, 1, out _)); // wrong width
        Assert.True(Table.TryFind(QueueNotifyBlock.QueueNotifyOffset, 4, 0xFFFF_FFFF_0000_0003, out int high)); // KVM compares 4 bytes
        Assert.Equal(QueueNotifyBlock.DoorbellIndex.Queue3, high);
        Assert.True(Table.TryFind(QueueNotifyBlock.QueueNotifyOffset, out int first));
        Assert.Equal(QueueNotifyBlock.DoorbellIndex.Queue0, first);
    }

    [Fact]
    public void A_trapped_write_signals_only_the_queue_it_names()
    {
        using var set = DoorbellSet.Create(Table);
        ulong[] values = [5, 0, 5, 7, 8, 0xFFFF_FFFF, 2, 0];
        foreach (ulong value in values) set.TryHandleWrite(QueueNotifyBlock.QueueNotifyOffset, 4, value);

        ulong[] signals = [.. Enumerable.Range(0, Table.Count).Select(row => set.TakeSignals(row))];
        Assert.Equal([2UL, 0, 1, 0, 0, 2, 0, 1, 0], signals);
        Assert.Equal(6, set.TrappedWrites);
    }

    [Fact]
    public void The_generated_dispatch_passes_the_matching_row_or_the_addresses_first_for_a_value_none_matches()
    {
        var device = new QueueNotifyBlock();
        device.WriteMmio(QueueNotifyBlock.QueueNotifyOffset, 4, 6);
        device.WriteMmio(QueueNotifyBlock.QueueNotifyOffset, 4, 0x1_0000_0000 | 1);
        device.WriteMmio(QueueNotifyBlock.QueueNotifyOffset, 4, 9);
        device.WriteMmio(QueueNotifyBlock.QueueNotifyOffset, 2, 1); // not the doorbells' width: undefined

        Assert.Equal(
            [(QueueNotifyBlock.DoorbellIndex.Queue6, 6UL), (QueueNotifyBlock.DoorbellIndex.Queue1, 1UL), (QueueNotifyBlock.DoorbellIndex.Queue0, 9UL)],
            device.DispatchedDoorbells);
    }

    public static TheoryData<string, DoorbellEntry[]> RefusedTables() => new()
    {
        { "a repeated datamatch", [Notify("a", 0x50, 4, 1), Notify("b", 0x50, 4, 1)] },
        { "a wildcard beside a datamatch", [Notify("a", 0x50, 4, 0), Notify("b", 0x50, 4, null)] },
        { "two wildcards", [Notify("a", 0x50, 4, null), Notify("b", 0x50, 4, null)] },
        { "two widths", [Notify("a", 0x50, 4, 0), Notify("b", 0x50, 2, 1)] },
    };

    [Theory]
    [MemberData(nameof(RefusedTables))]
    public void A_hand_built_table_KVM_would_refuse_on_one_address_is_refused(string what, DoorbellEntry[] rows)
    {
        var table = new DoorbellTable(what, 0x100, 0, rows);

        var error = Assert.Throws<ArgumentException>(() => DoorbellSet.Create(table));
        Assert.Contains("share offset 0x50", error.Message, StringComparison.Ordinal);
    }

    private static DoorbellEntry Notify(string name, ulong offset, int width, ulong? dataMatch) =>
        new(name, 0, offset, width, DoorbellKind.Notify, dataMatch is not null, dataMatch ?? 0, -1);
}
