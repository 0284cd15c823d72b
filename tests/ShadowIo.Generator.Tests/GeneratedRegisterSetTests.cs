using ShadowIo.Generator.Tests.Blocks;

namespace ShadowIo.Generator.Tests;

/// <summary>
/// Runs the code generated for Blocks/PortArrayBlock.cs: register arrays' element views, indexed
/// MMIO dispatch with every field mode, per-element hooks with the index, reset, bounds.
/// </summary>
public sealed class GeneratedRegisterSetTests
{
    [Fact]
    public void Constants_give_each_elements_geometry()
    {
        Assert.Equal(0x400UL, PortArrayBlock.PortsOffset);
        Assert.Equal(4, PortArrayBlock.PortsCount);
        Assert.Equal(0x10UL, PortArrayBlock.PortsStride);
        Assert.Equal(0xCUL, PortArrayBlock.PortRegisters.PortHlpmcOffset);
        Assert.Equal(0x1E0U, PortArrayBlock.PortRegisters.PortScFields.PlsMask);
        Assert.Equal(0x800UL, PortArrayBlock.ScratchOffset);
        Assert.Equal(3, new PortArrayBlock().Scratch.Count);
    }

    [Fact]
    public void Every_element_starts_at_its_reset_value_and_ResetRegisters_restores_all()
    {
        var block = new PortArrayBlock();
        for (int n = 0; n < PortArrayBlock.PortsCount; n++)
        {
            Assert.Equal(0x2A0U, block.Ports[n].PortSc);
            Assert.Equal(n, block.Ports[n].Index);
        }

        block.Ports[2].PortSc = 0;
        block.Scratch[1].Value = 7;
        block.ResetRegisters();
        Assert.Equal(0x2A0U, block.Ports[2].PortSc);
        Assert.Equal((ushort)0x1234, block.Scratch[1].Value);
    }

    [Fact]
    public void Element_views_are_made_once_and_indexing_allocates_nothing()
    {
        var block = new PortArrayBlock();
        PortArrayBlock.PortRegisters first = block.Ports[3];
        Assert.Same(first, block.Ports[3]);

        long before = GC.GetAllocatedBytesForCurrentThread();
        uint sum = 0;
        for (int i = 0; i < 1000; i++) sum += block.Ports[i & 3].PortSc + (block.Ports[i & 3].PortScPp ? 1U : 0U);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0U, sum);
    }

    [Fact]
    public void Each_element_reads_and_writes_its_own_storage_through_dispatch()
    {
        var block = new PortArrayBlock();
        for (int n = 0; n < PortArrayBlock.PortsCount; n++)
        {
            ulong element = PortArrayBlock.PortsOffset + ((ulong)n * PortArrayBlock.PortsStride);
            block.WriteMmio(element + PortArrayBlock.PortRegisters.PortPmscOffset, 4, 0x100U + (uint)n);
            block.WriteMmio(element + PortArrayBlock.PortRegisters.PortHlpmcOffset, 4, 0x200U + (uint)n);
        }

        for (int n = 0; n < PortArrayBlock.PortsCount; n++)
        {
            ulong element = PortArrayBlock.PortsOffset + ((ulong)n * PortArrayBlock.PortsStride);
            Assert.Equal(0x100U + (uint)n, block.Ports[n].PortPmsc);
            Assert.Equal(0x200U + (uint)n, block.Ports[n].PortHlpmc);
            Assert.Equal(0x100UL + (uint)n, block.ReadMmio(element + PortArrayBlock.PortRegisters.PortPmscOffset, 4));
            // A 1-byte read of the second byte of PORTHLPMC.
            Assert.Equal(0x02UL, block.ReadMmio(element + PortArrayBlock.PortRegisters.PortHlpmcOffset + 1, 1));
        }
    }

    [Fact]
    public void Field_modes_apply_per_element()
    {
        var block = new PortArrayBlock();
        PortArrayBlock.PortRegisters port = block.Ports[1];
        port.PortScCcs = true;
        port.PortScPed = true;
        port.PortScCsc = true;
        ulong portSc = PortArrayBlock.PortsOffset + PortArrayBlock.PortsStride + PortArrayBlock.PortRegisters.PortScOffset;

        // CCS read-only, PED and CSC write-1-to-clear (only CSC written as 1), PR set, PLS = 3, PP = 0.
        block.WriteMmio(portSc, 4, (1U << 17) | (1U << 4) | (3U << 5) | 1U);
        Assert.True(port.PortScCcs);
        Assert.True(port.PortScPed);
        Assert.False(port.PortScCsc);
        Assert.True(port.PortScPr);
        Assert.Equal(3U, port.PortScPls);
        Assert.False(port.PortScPp);

        // The other elements are untouched.
        Assert.Equal(0x2A0U, block.Ports[0].PortSc);
        Assert.Equal(0x2A0U, block.Ports[2].PortSc);
    }

    [Fact]
    public void Hooks_get_the_element_index_and_exact_values()
    {
        var block = new PortArrayBlock();
        block.WriteMmio(PortArrayBlock.PortsOffset + (3 * PortArrayBlock.PortsStride) + PortArrayBlock.PortRegisters.PortPmscOffset, 4, 0xABCD);
        Assert.Equal((3, 0U, 0xABCDU), block.LastPortPmscWrite);

        // PORTLI is read-only: the hook runs with previous == value.
        block.Ports[2].PortLi = 0x55;
        block.WriteMmio(PortArrayBlock.PortsOffset + (2 * PortArrayBlock.PortsStride) + PortArrayBlock.PortRegisters.PortLiOffset, 4, 0);
        Assert.Equal((2, 0x55U, 0x55U), block.LastPortLiWrite);
        Assert.Equal(0x55U, block.Ports[2].PortLi);
    }

    [Theory]
    [InlineData(0x404UL + 0x40, 4)] // one past the last element's PORTPMSC: beyond Ports[3]
    [InlineData(0x402UL, 4)]        // straddles PORTSC and PORTPMSC
    [InlineData(0x802UL, 2)]        // the gap after Scratch[0].Value (stride 8, register 2 bytes)
    [InlineData(0x818UL, 2)]        // where Scratch[3] would be
    public void Accesses_outside_every_element_register_are_undefined(ulong offset, int size)
    {
        var block = new PortArrayBlock();
        Assert.Equal(0UL, block.ReadMmio(offset, size));
        Assert.Equal((offset, size), block.LastUndefinedRead);
        block.WriteMmio(offset, size, 0xFFFF_FFFF);
        Assert.Equal((offset, size), block.LastUndefinedWrite);
        for (int n = 0; n < PortArrayBlock.PortsCount; n++) Assert.Equal(0U, block.Ports[n].PortPmsc);
        for (int n = 0; n < 3; n++) Assert.Equal((ushort)0x1234, block.Scratch[n].Value);
    }

    [Fact]
    public void A_single_repeated_register_dispatches_with_its_stride()
    {
        var block = new PortArrayBlock();
        block.WriteMmio(0x810, 2, 0xBEEF);
        Assert.Equal((ushort)0xBEEF, block.Scratch[2].Value);
        Assert.Equal((2, (ushort)0x1234, (ushort)0xBEEF), block.LastScratchWrite);
        Assert.Equal(0xBEEFUL, block.ReadMmio(0x810, 2));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4)]
    [InlineData(int.MaxValue)]
    public void A_bad_index_throws_ArgumentOutOfRangeException(int index)
    {
        var block = new PortArrayBlock();
        Assert.Throws<ArgumentOutOfRangeException>(() => block.Ports[index]);
    }
}
