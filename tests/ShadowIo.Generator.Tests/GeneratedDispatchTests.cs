using CsCheck;
using ShadowIo.Generator.Tests.Blocks;

namespace ShadowIo.Generator.Tests;

/// <summary>Runs the code the generator produced for the blocks in Blocks/: MMIO dispatch and access rules.</summary>
public sealed class GeneratedDispatchTests
{
    [Fact]
    public void Nvme_constants_match_the_register_map()
    {
        Assert.Equal(0x2000UL, NvmeBar0.BlockSize);
        Assert.Equal(0x14UL, NvmeBar0.CcOffset);
        Assert.Equal(0x30UL, NvmeBar0.AcqOffset);
        Assert.Equal(7, NvmeBar0.CcFields.MpsShift);
        Assert.Equal(0x780U, NvmeBar0.CcFields.MpsMask);
        Assert.Equal(0xF_0000_0000UL, NvmeBar0.CapFields.DstrdMask);
        Assert.Equal(32, NvmeBar0.CapFields.DstrdShift);
    }

    [Fact]
    public void Nvme_reset_values_are_composed_from_field_resets()
    {
        var nvme = new NvmeBar0();
        Assert.Equal(1023UL, nvme.CapMqes);
        Assert.True(nvme.CapCqr);
        Assert.Equal(20UL, nvme.CapTo);
        Assert.Equal(1UL, nvme.CapCss);
        Assert.Equal(0x0002_0000U, nvme.Vs);

        nvme.Cap = 0;
        nvme.Cc = 0xFFFF_FFFF;
        nvme.ResetRegisters();
        Assert.Equal(1023UL, nvme.CapMqes);
        Assert.Equal(0U, nvme.Cc);
    }

    [Fact]
    public void Nvme_read_only_registers_ignore_guest_writes()
    {
        var nvme = new NvmeBar0();
        ulong cap = nvme.Cap;
        nvme.WriteMmio(NvmeBar0.CapOffset, 8, 0);
        nvme.WriteMmio(NvmeBar0.VsOffset, 4, 0x1234);
        Assert.Equal(cap, nvme.Cap);
        Assert.Equal(0x0002_0000U, nvme.Vs);
        Assert.Equal(cap, nvme.ReadMmio(NvmeBar0.CapOffset, 8));
    }

    [Fact]
    public void Nvme_cap_reads_as_two_32_bit_halves()
    {
        var nvme = new NvmeBar0 { Cap = 0x1122_3344_5566_7788 };
        Assert.Equal(0x5566_7788UL, nvme.ReadMmio(NvmeBar0.CapOffset, 4));
        Assert.Equal(0x1122_3344UL, nvme.ReadMmio(NvmeBar0.CapOffset + 4, 4));
        Assert.Equal(0x33UL, nvme.ReadMmio(NvmeBar0.CapOffset + 5, 1));
    }

    [Fact]
    public void Nvme_asq_written_as_two_halves_merges_them()
    {
        var nvme = new NvmeBar0();
        nvme.WriteMmio(NvmeBar0.AsqOffset, 4, 0x8765_4000);
        nvme.WriteMmio(NvmeBar0.AsqOffset + 4, 4, 0x0000_0001);
        Assert.Equal(0x1_8765_4000UL, nvme.Asq);
        nvme.WriteMmio(NvmeBar0.AcqOffset, 8, 0xAABB_CCDD_0000_1000);
        Assert.Equal(0xAABB_CCDD_0000_1000UL, nvme.Acq);
    }

    [Fact]
    public void Nvme_cc_fields_decode_a_guest_write()
    {
        var nvme = new NvmeBar0();

        // Linux nvme_enable_ctrl: CSS NVM, MPS 4 KiB, AMS RR, IOSQES 6, IOCQES 4, EN.
        const uint cc = (6u << 16) | (4u << 20) | 1u;
        nvme.WriteMmio(NvmeBar0.CcOffset, 4, cc);
        Assert.True(nvme.CcEn);
        Assert.Equal(6U, nvme.CcIosqes);
        Assert.Equal(4U, nvme.CcIocqes);
        Assert.Equal(ShutdownNotification.None, nvme.CcShn);

        nvme.CcShn = ShutdownNotification.Normal;
        Assert.Equal(cc | (1u << 14), nvme.Cc);
        nvme.CcEn = false;
        Assert.Equal((cc | (1u << 14)) & ~1u, nvme.Cc);
    }

    [Fact]
    public void Nvme_csts_nssro_is_write_one_to_clear_and_rdy_is_read_only()
    {
        var nvme = new NvmeBar0 { CstsRdy = true, CstsNssro = true };
        nvme.WriteMmio(NvmeBar0.CstsOffset, 4, 0xFFFF_FFEF); // every bit but NSSRO
        Assert.True(nvme.CstsRdy);
        Assert.True(nvme.CstsNssro);
        nvme.WriteMmio(NvmeBar0.CstsOffset, 4, NvmeBar0.CstsFields.NssroMask);
        Assert.True(nvme.CstsRdy);
        Assert.False(nvme.CstsNssro);
    }

    [Fact]
    public void Nvme_aqa_fields_hold_queue_sizes()
    {
        var nvme = new NvmeBar0();
        nvme.WriteMmio(NvmeBar0.AqaOffset, 4, (31u << 16) | 63u);
        Assert.Equal(63U, nvme.AqaAsqs);
        Assert.Equal(31U, nvme.AqaAcqs);
    }

    [Fact]
    public void Doorbell_offsets_read_as_zero_and_never_reach_registers()
    {
        var nvme = new NvmeBar0();
        Assert.Equal(0UL, nvme.ReadMmio(0x1000, 4));
        nvme.WriteMmio(0x1000, 4, 5);
        Assert.Equal(0UL, nvme.Asq);
    }

    [Fact]
    public void Field_modes_apply_on_guest_writes()
    {
        var block = new FieldModesBlock();
        // Reset: RW=5, RO=0xA, W1C/W0C/RC set in the register's reset 0xFFFF_0000.
        uint reset = block.Control;
        Assert.Equal(0xFFFF_00A5U, reset);

        block.Control = 0x0000_0000;
        block.ControlSet = 0x3;
        block.ControlToggle = 0x5;
        block.ControlW1c = 0xF;
        block.ControlW0c = 0xF;
        block.ControlRo = 0x6;
        uint before = block.Control;

        // RW ← 9, RO ← (ignored), WO ← 7, SET |= 0xC, TOGGLE ^= 0x3, W1C clears 0x3, W0C clears where 0 (keeps 0xA).
        uint written = 0x9u | (0xFu << 4) | (0x7u << 8) | (0xCu << 12) | (0x3u << 16) | (0x3u << 20) | (0xAu << 24);
        block.WriteMmio(0x00, 4, written);

        Assert.Equal(0x9U, block.ControlRw);
        Assert.Equal(0x6U, block.ControlRo);
        Assert.Equal(0x7U, block.ControlWo);
        Assert.Equal(0xFU, block.ControlSet);
        Assert.Equal(0x6U, block.ControlToggle);
        Assert.Equal(0xCU, block.ControlW1c);
        Assert.Equal(0xAU, block.ControlW0c);
        Assert.Equal((before, block.Control), Assert.Single(block.ControlWrites));
    }

    [Fact]
    public void Write_only_field_reads_as_zero_and_read_to_clear_field_clears_after_the_read()
    {
        var block = new FieldModesBlock { Control = 0 };
        block.ControlWo = 0xF;
        block.ControlRc = 0x3;
        block.ControlColor = Color.Blue;

        ulong first = block.ReadMmio(0x00, 4);
        Assert.Equal(0UL, (first >> 8) & 0xF);  // WO reads 0
        Assert.Equal(0x3UL, (first >> 28) & 0x3); // RC value returned...
        Assert.Equal(0U, block.ControlRc);        // ...then cleared
        Assert.Equal(Color.Blue, block.ControlColor);
        Assert.Equal(0x0UL, (block.ReadMmio(0x00, 4) >> 28) & 0x3);
    }

    [Fact]
    public void Read_to_clear_clears_only_the_bytes_read()
    {
        var block = new FieldModesBlock { Control = 0 };
        block.ControlRc = 0x3;
        _ = block.ReadMmio(0x00, 2); // bytes 0..1: RC lives in byte 3
        Assert.Equal(0x3U, block.ControlRc);
        _ = block.ReadMmio(0x03, 1);
        Assert.Equal(0U, block.ControlRc);
    }

    [Fact]
    public void Sub_register_write_touches_only_its_bytes()
    {
        var block = new FieldModesBlock { Control = 0 };
        block.ControlW0c = 0xF;
        block.WriteMmio(0x00, 1, 0xFF); // byte 0: RW=0xF and RO (ignored); W0C in byte 3 untouched
        Assert.Equal(0xFU, block.ControlRw);
        Assert.Equal(0xFU, block.ControlW0c);
    }

    [Fact]
    public void Register_access_modes_apply_without_fields()
    {
        var block = new FieldModesBlock();
        Assert.Equal(0UL, block.ReadMmio(0x04, 2)); // write-only reads 0
        block.WriteMmio(0x04, 2, 0xBEEF);
        Assert.Equal((ushort)0xBEEF, block.Command);

        Assert.Equal(0xFFUL, block.ReadMmio(0x06, 1)); // W1C
        block.WriteMmio(0x06, 1, 0x0F);
        Assert.Equal((byte)0xF0, block.Status);

        block.WriteMmio(0x07, 1, 0xFF); // LOW RW, HIGH RO
        Assert.Equal((byte)0x0F, block.Small);

        block.WriteMmio(0x08, 8, 0x0000_0012_CAFE_F00D); // WO register: SECRET replaced, FLAGS set
        block.WriteMmio(0x08, 8, 0x0000_0001_0000_0000);
        Assert.Equal(0x13UL, block.WideFlags);
        Assert.Equal(0UL, block.ReadMmio(0x08, 8));
    }

    [Fact]
    public void Undefined_offsets_and_sizes_are_observable_and_harmless()
    {
        var block = new FieldModesBlock();
        uint control = block.Control;
        Assert.Equal(0UL, block.ReadMmio(0x10, 4));       // hole
        Assert.Equal(0UL, block.ReadMmio(0x02, 4));       // straddles Control and Command
        Assert.Equal(0UL, block.ReadMmio(0x00, 3));       // size KVM never delivers
        Assert.Equal(0UL, block.ReadMmio(0x100, 1));      // past the block
        Assert.Equal(0UL, block.ReadMmio(ulong.MaxValue, 8)); // offset + size overflows
        block.WriteMmio(0x20, 4, 1);
        block.WriteMmio(0x00, 16, 1);
        block.WriteMmio(ulong.MaxValue - 1, 2, 1);

        Assert.Equal([(0x10UL, 4), (0x02UL, 4), (0x00UL, 3), (0x100UL, 1), (ulong.MaxValue, 8)], block.UndefinedReads);
        Assert.Equal([(0x20UL, 4, 1UL), (0x00UL, 16, 1UL), (ulong.MaxValue - 1, 2, 1UL)], block.UndefinedWrites);
        Assert.Equal(control, block.Control);
    }

    [Fact]
    public void Every_offset_and_size_is_handled_without_throwing()
    {
        var block = new FieldModesBlock();
        var nvme = new NvmeBar0();
        foreach (int size in new[] { 0, 1, 2, 3, 4, 5, 8, 16, -1, int.MinValue })
        {
            for (ulong offset = 0; offset < 0x120; offset++)
            {
                block.WriteMmio(offset, size, ulong.MaxValue);
                _ = block.ReadMmio(offset, size);
                nvme.WriteMmio(offset + 0xFF0, size, ulong.MaxValue);
                _ = nvme.ReadMmio(offset + 0xFF0, size);
            }
        }
    }

    /// <summary>
    /// Random guest accesses of every size at every byte of a register holding every field mode,
    /// against the rules as generated-api.md states them, applied in the order it lists them.
    /// The dispatch computes a write as clear/set/toggle masks applied in one atomic step; this
    /// checks that is the same register and the same read values.
    /// </summary>
    [Fact]
    public void Guest_accesses_of_every_field_mode_match_the_documented_rules()
    {
        Gen<(bool Write, int Relative, int Size, ulong Value)> access =
            Gen.Select(Gen.Bool, Gen.Int[0, 3], Gen.OneOf(1, 2, 4), Gen.ULong)
                .Where(static a => a.Item2 + a.Item3 <= 4)
                .Select(static a => (a.Item1, a.Item2, a.Item3, a.Item4));
        Gen.Select(Gen.UInt, access.Array[1, 24]).Sample((start, accesses) =>
        {
            var block = new FieldModesBlock { Control = start };
            uint model = start;
            foreach ((bool write, int relative, int size, ulong value) in accesses)
            {
                if (write)
                {
                    block.WriteMmio((ulong)relative, size, value);
                    model = DocumentedWrite(model, relative, size, value);
                }
                else
                {
                    Assert.Equal(DocumentedRead(ref model, relative, size), block.ReadMmio((ulong)relative, size));
                }

                Assert.Equal(model, block.Control);
            }
        }, iter: 2_000);
    }

    private const uint Replaced = FieldModesBlock.ControlFields.RwMask | FieldModesBlock.ControlFields.WoMask | FieldModesBlock.ControlFields.ColorMask;

    private static uint DocumentedWrite(uint register, int relative, int size, ulong value)
    {
        ulong lanes = SizeMask(size) << (relative * 8);
        ulong written = (value & SizeMask(size)) << (relative * 8);
        ulong next = register;
        next = (next & ~(lanes & Replaced)) | (written & Replaced);           // ReadWrite/WriteOnly replace
        next |= written & FieldModesBlock.ControlFields.SetMask;               // Set ORs
        next ^= written & FieldModesBlock.ControlFields.ToggleMask;            // Toggle XORs
        next &= ~(written & FieldModesBlock.ControlFields.W1cMask);            // WriteOneToClear
        next &= ~(lanes & ~written & FieldModesBlock.ControlFields.W0cMask);   // WriteZeroToClear
        return (uint)next;                                                     // ReadOnly, ReadToClear keep
    }

    private static ulong DocumentedRead(ref uint register, int relative, int size)
    {
        ulong lanes = SizeMask(size) << (relative * 8);
        ulong value = ((register & ~FieldModesBlock.ControlFields.WoMask) >> (relative * 8)) & SizeMask(size); // write-only reads 0
        register &= ~(uint)(lanes & FieldModesBlock.ControlFields.RcMask);    // read-to-clear clears the bytes read
        return value;
    }

    private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
}
