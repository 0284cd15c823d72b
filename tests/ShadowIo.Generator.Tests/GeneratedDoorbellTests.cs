using System.Runtime.InteropServices;
using ShadowIo.Generator.Tests.Blocks;

namespace ShadowIo.Generator.Tests;

/// <summary>Runs the generated doorbell table, shadow layout and typed readers.</summary>
public sealed unsafe class GeneratedDoorbellTests
{
    [Fact]
    public void Nvme_shadow_layout_is_the_doorbell_buffer_config_layout()
    {
        // SQ y tail at 8y, CQ y head at 8y + 4 (NVMe 2.0 §5.8, Doorbell Buffer Config).
        Assert.Equal(0, NvmeBar0.ShadowLayout.SqTail);
        Assert.Equal(4, NvmeBar0.ShadowLayout.CqHead);
        Assert.Equal(8, NvmeBar0.ShadowLayout.SqTailStride);
        Assert.Equal(512, NvmeBar0.ShadowLayout.Size);
    }

    [Fact]
    public void Nvme_table_expands_arrays_in_declaration_order()
    {
        DoorbellTable table = NvmeBar0.DoorbellTable;
        Assert.Equal("NVMe BAR0", table.BlockName);
        Assert.Equal(128, table.Count);
        Assert.Equal(512, table.ShadowSize);
        for (int y = 0; y < 64; y++)
        {
            Assert.Equal(new DoorbellEntry("SQ tail", y, 0x1000UL + (8UL * (ulong)y), 4, DoorbellKind.Value, false, 0, 8 * y), table[NvmeBar0.DoorbellIndex.SqTail + y]);
            Assert.Equal(new DoorbellEntry("CQ head", y, 0x1004UL + (8UL * (ulong)y), 4, DoorbellKind.Value, false, 0, (8 * y) + 4), table[NvmeBar0.DoorbellIndex.CqHead + y]);
        }

        Assert.True(table.TryFind(0x100C, out int row));
        Assert.Equal(NvmeBar0.DoorbellIndex.CqHead + 1, row);
    }

    [Fact]
    public void Nvme_readers_return_what_was_written_into_the_shadow()
    {
        byte* page = (byte*)NativeMemory.AllocZeroed(4096);
        try
        {
            var shadow = new ShadowRegion(page, 4096);
            for (int y = 0; y < 64; y++)
            {
                shadow.WriteUInt32(8 * y, (uint)(1000 + y));
                shadow.WriteUInt32((8 * y) + 4, (uint)(2000 + y));
            }

            var reader = new NvmeBar0.DoorbellReader(shadow);
            for (int y = 0; y < 64; y++)
            {
                Assert.Equal((uint)(1000 + y), reader.SqTail(y));
                Assert.Equal((uint)(2000 + y), reader.CqHead(y));
            }

            Assert.Throws<ArgumentOutOfRangeException>(() => reader.SqTail(64));
            Assert.Throws<ArgumentOutOfRangeException>(() => reader.CqHead(-1));
            Assert.Throws<ArgumentException>(() => new NvmeBar0.DoorbellReader(shadow.Slice(0, 511)));
        }
        finally
        {
            NativeMemory.Free(page);
        }
    }

    [Fact]
    public void Mixed_block_table_has_notify_rows_with_datamatch_and_value_rows_with_shadow_offsets()
    {
        DoorbellTable table = Devices.VirtioNotifyBlock.DoorbellTable;
        Assert.Equal(8, table.Count);
        Assert.Equal(new DoorbellEntry("queue notify", 0, 0x100, 2, DoorbellKind.Notify, true, 3, -1), table[Devices.VirtioNotifyBlock.DoorbellIndex.QueueNotify]);
        Assert.Equal(new DoorbellEntry("config notify", 0, 0x104, 4, DoorbellKind.Notify, false, 0, -1), table[Devices.VirtioNotifyBlock.DoorbellIndex.ConfigNotify]);
        Assert.Equal(new DoorbellEntry("event index", 0, 0x200, 4, DoorbellKind.Value, false, 0, 0), table[Devices.VirtioNotifyBlock.DoorbellIndex.EventIndex]);
        Assert.Equal(new DoorbellEntry("avail idx", 3, 0x214, 2, DoorbellKind.Value, false, 0, 0x14), table[Devices.VirtioNotifyBlock.DoorbellIndex.AvailIdx + 3]);
        Assert.Equal(new DoorbellEntry("wide counter", 0, 0x218, 8, DoorbellKind.Value, false, 0, 0x18), table[Devices.VirtioNotifyBlock.DoorbellIndex.WideCounter]);
        Assert.Equal(0x20, Devices.VirtioNotifyBlock.ShadowLayout.Size);
    }

    [Fact]
    public void Mixed_block_readers_have_each_doorbells_width()
    {
        byte* page = (byte*)NativeMemory.AllocZeroed(64);
        try
        {
            var shadow = new ShadowRegion(page, 64);
            shadow.WriteUInt32(0, 0xAABBCCDD);
            shadow.WriteUInt16(0x08 + (2 * 4), 0x7777);
            shadow.WriteUInt64(0x18, 0x0102_0304_0506_0708);
            var reader = new Devices.VirtioNotifyBlock.DoorbellReader(shadow);
            Assert.Equal(0xAABBCCDDU, reader.EventIndex);
            ushort element2 = reader.AvailIdx(2);
            Assert.Equal((ushort)0x7777, element2);
            Assert.Equal(0x0102_0304_0506_0708UL, reader.WideCounter);
        }
        finally
        {
            NativeMemory.Free(page);
        }
    }

    [Fact]
    public void Doorbell_write_reaching_dispatch_calls_the_hook_with_the_row()
    {
        var block = new Devices.VirtioNotifyBlock();
        block.WriteMmio(0x100, 2, 0x1_0003);  // truncated to the doorbell's width
        block.WriteMmio(0x20C, 2, 9);         // avail idx[1]
        block.WriteMmio(0x20C, 4, 9);         // wrong size: undefined, not a doorbell
        Assert.Equal([(Devices.VirtioNotifyBlock.DoorbellIndex.QueueNotify, 3UL), (Devices.VirtioNotifyBlock.DoorbellIndex.AvailIdx + 1, 9UL)], block.DoorbellWrites);
        Assert.Equal(0x1AF4UL, block.ReadMmio(0, 4));
    }
}
