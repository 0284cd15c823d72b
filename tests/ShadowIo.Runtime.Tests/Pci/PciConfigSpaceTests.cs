using ShadowIo.Pci;

namespace ShadowIo.Runtime.Tests.Pci;

/// <summary>The one config-space model both transports serve: BAR sizing (32- and 64-bit) and the MSI-X capability.</summary>
public sealed class PciConfigSpaceTests
{
    private static readonly PciIdentity Identity = new(0x1b36, 0x5349, 0x010802);

    private sealed class NullDevice : IMmioDevice
    {
        public ulong ReadMmio(ulong offset, int size) => 0;
        public void WriteMmio(ulong offset, int size, ulong value) { }
    }

    [Fact]
    public void A_64_bit_bar_sizes_as_one_register_pair_and_routes_above_4_GiB()
    {
        var bar = new PciBar(0, PciBarKind.Memory64, 0x4000, new NullDevice());
        var config = new PciConfigSpace(Identity, [bar]);
        Assert.Equal(0x4u, config.Read(0x10, 4));          // memory, type 10b (64-bit), not prefetchable
        config.Write(0x10, 0xffff_ffff, 4);
        config.Write(0x14, 0xffff_ffff, 4);
        Assert.Equal(0xffff_c004u, config.Read(0x10, 4));
        Assert.Equal(0xffff_ffffu, config.Read(0x14, 4));  // below 4 GiB of size, the upper half is all address

        config.Write(0x10, 0xfe00_0000, 4);
        config.Write(0x14, 0x0000_0010, 4);
        Assert.Equal(0x10_fe00_0000ul, config.GetBarBase(0));
        Assert.True(config.TryRoute(0x10_fe00_3ff8, 8, memory: true, out var routed, out ulong offset));
        Assert.Same(bar, routed);
        Assert.Equal(0x3ff8ul, offset);
        Assert.False(config.TryRoute(0x10_fe00_3ffc, 8, memory: true, out _, out _));   // straddles the end
        Assert.False(config.TryRoute(0xfe00_0000, 4, memory: true, out _, out _));      // the low dword alone is not the base
    }

    [Fact]
    public void A_64_bit_bar_takes_the_next_index_and_cannot_be_bar5()
    {
        var device = new NullDevice();
        Assert.Throws<ArgumentException>(() => new PciConfigSpace(Identity, [new PciBar(0, PciBarKind.Memory64, 0x1000, device), new PciBar(1, PciBarKind.Memory32, 0x1000, device)]));
        Assert.Throws<ArgumentException>(() => new PciConfigSpace(Identity, [new PciBar(1, PciBarKind.Memory32, 0x1000, device), new PciBar(0, PciBarKind.Memory64, 0x1000, device)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PciConfigSpace(Identity, [new PciBar(5, PciBarKind.Memory64, 0x1000, device)]));
    }

    [Fact]
    public void The_msix_capability_is_the_capability_list_and_only_enable_and_mask_are_writable()
    {
        var table = new MsixTable(65);
        var config = new PciConfigSpace(Identity, [new PciBar(0, PciBarKind.Memory64, 0x4000, new NullDevice()), new PciBar(4, PciBarKind.Memory32, table.BarSize, table)], PciMsix.InBar(4, table));
        Assert.NotEqual(0u, config.Read(PciConfigSpace.StatusOffset, 2) & PciConfigSpace.StatusCapabilitiesList);
        Assert.Equal(0x40u, config.Read(PciConfigSpace.CapabilitiesPointerOffset, 1));
        Assert.Equal(0x11u, config.Read(0x40, 1));
        Assert.Equal(0u, config.Read(0x41, 1));                 // the last capability
        Assert.Equal(64u, config.Read(0x42, 2));                // Table Size = vectors - 1, not enabled
        Assert.Equal(0x0000_0004u, config.Read(0x44, 4));       // table at 0 in BAR4
        Assert.Equal(0x0000_1004u, config.Read(0x48, 4));       // PBA on the next page, BAR4
        Assert.Equal(0x2000ul, table.BarSize);

        config.Write(0x42, 0xffff, 2);
        Assert.Equal(0xc040u, config.Read(0x42, 2));            // enable and function mask set, table size kept
        Assert.True(config.MsixEnabled);
        Assert.True(config.MsixFunctionMasked);
        config.Write(0x44, 0xffff_ffff, 4);
        Assert.Equal(0x0000_0004u, config.Read(0x44, 4));
        config.Reset();
        Assert.False(config.MsixEnabled);
    }

    [Fact]
    public void Further_capabilities_chain_after_msix_four_byte_aligned_read_only_and_must_fit()
    {
        var table = new MsixTable(2);
        var bars = new[] { new PciBar(4, PciBarKind.Memory32, table.BarSize, table) };
        var config = new PciConfigSpace(Identity, bars, PciMsix.InBar(4, table), [new PciCapability(0x09, [5, 0xaa, 0xbb]), new PciCapability(0x09, [4, 0xcc])]);
        Assert.Equal(0x40u, config.Read(PciConfigSpace.CapabilitiesPointerOffset, 1));
        Assert.Equal(0x4cu, config.Read(0x41, 1));             // MSI-X's next: the first vendor capability
        Assert.Equal(0xaa05_5409u, config.Read(0x4c, 4));     // ID, next 0x54 (5 bytes end at 0x51, aligned up), cap_len, body
        Assert.Equal(0xbbu, config.Read(0x50, 1));
        Assert.Equal(0xcc04_0009u, config.Read(0x54, 4));     // the last: next 0
        config.Write(0x4e, 0xffff, 2);
        Assert.Equal(0xaa05u, config.Read(0x4e, 2));           // capability bytes ignore writes

        // Without MSI-X the capabilities start the list at 0x40.
        var plain = new PciConfigSpace(Identity, [], capabilities: [new PciCapability(0x09, [4, 1])]);
        Assert.Equal(0x40u, plain.Read(PciConfigSpace.CapabilitiesPointerOffset, 1));
        Assert.NotEqual(0u, plain.Read(PciConfigSpace.StatusOffset, 2) & PciConfigSpace.StatusCapabilitiesList);
        Assert.Equal(0x0104_0009u, plain.Read(0x40, 4));       // ID, next 0 (the last), body
        Assert.Throws<ArgumentException>(() => new PciConfigSpace(Identity, [], capabilities: [new PciCapability(0x09, new byte[0xbf])]));
    }

    [Fact]
    public void An_msix_table_that_does_not_fit_its_bar_is_refused()
    {
        var table = new MsixTable(64);
        Assert.Throws<ArgumentException>(() => new PciConfigSpace(Identity, [new PciBar(4, PciBarKind.Memory32, 0x400, table)], PciMsix.InBar(4, table)));
        Assert.Throws<ArgumentException>(() => new PciConfigSpace(Identity, [new PciBar(4, PciBarKind.Io, 0x100, table)], new PciMsix(4, 4, 0, 4, 0x80)));
        Assert.Throws<ArgumentException>(() => new PciConfigSpace(Identity, [new PciBar(4, PciBarKind.Memory32, 0x1000, table)], new PciMsix(64, 4, 0, 4, 0x100)));   // PBA inside the table
        Assert.Throws<ArgumentException>(() => new PciConfigSpace(Identity, [new PciBar(4, PciBarKind.Memory32, 0x1000, table)], new PciMsix(4, 3, 0, 4, 0x800)));    // no BAR3
    }

    [Fact]
    public void The_msix_table_keeps_addresses_masks_only_the_mask_bit_and_the_pba_is_read_only()
    {
        var table = new MsixTable(3);
        Assert.True(table.IsMasked(0));
        table.WriteMmio(0x10, 8, 0x0000_0000_fee0_1000);
        table.WriteMmio(0x18, 4, 0x4041);
        table.WriteMmio(0x1c, 4, 0xffff_fffe);                  // unmask; reserved bits stay zero
        Assert.False(table.IsMasked(1));
        Assert.Equal(0u, (uint)table.ReadMmio(0x1c, 4));
        Assert.Equal((0xfee0_1000ul, 0x4041u), table.GetMessage(1));
        Assert.True(table.IsMasked(2));

        table.SetPending(2, true);
        Assert.Equal(0b100ul, table.ReadMmio(table.PbaOffset, 8));
        table.WriteMmio(table.PbaOffset, 8, 0);
        Assert.True(table.IsPending(2));
        Assert.Equal(0ul, table.ReadMmio(0x30, 4));             // past the table: zero
        Assert.Equal(0ul, table.ReadMmio(0x2c, 8));             // straddles the end: zero
        table.WriteMmio(ulong.MaxValue, 8, 1);                  // ignored, no throw
        Assert.True(table.IsMasked(-1));
    }
}
