using ShadowIo.Devices.Nvme;
using Xunit;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>BAR0 registers and the CC.EN / CSTS.RDY handshake, driven through MMIO.</summary>
public sealed class RegisterTests
{
    [Fact]
    public void Cap_reports_queue_limits_contiguous_queues_timeout_and_zero_doorbell_stride()
    {
        using var host = new NvmeTestHost();
        ulong cap = host.Read64(NvmeRegisters.CapOffset);
        Assert.Equal(1023UL, cap & 0xFFFF);              // MQES
        Assert.Equal(1UL, (cap >> 16) & 1);              // CQR
        Assert.NotEqual(0UL, (cap >> 24) & 0xFF);        // TO
        Assert.Equal(0UL, (cap >> 32) & 0xF);            // DSTRD
        Assert.Equal(1UL, (cap >> 37) & 0xFF);           // CSS: NVM command set
        // Linux may read CAP as two 32-bit halves.
        Assert.Equal((uint)cap, host.Read32(NvmeRegisters.CapOffset));
        Assert.Equal((uint)(cap >> 32), host.Read32(NvmeRegisters.CapOffset + 4));
        Assert.Equal(0x0001_0400u, host.Read32(NvmeRegisters.VsOffset));
    }

    [Fact]
    public void Read_only_registers_ignore_guest_writes()
    {
        using var host = new NvmeTestHost();
        ulong cap = host.Read64(NvmeRegisters.CapOffset);
        host.Controller.WriteMmio(NvmeRegisters.CapOffset, 8, ulong.MaxValue);
        host.Write32(NvmeRegisters.CstsOffset, 0xFFFF_FFFF);
        host.Write32(NvmeRegisters.VsOffset, 0);
        Assert.Equal(cap, host.Read64(NvmeRegisters.CapOffset));
        Assert.Equal(0u, host.Read32(NvmeRegisters.CstsOffset));
        Assert.Equal(0x0001_0400u, host.Read32(NvmeRegisters.VsOffset));
    }

    [Fact]
    public void Enabling_with_valid_admin_queues_sets_ready_and_disabling_clears_it()
    {
        using var host = new NvmeTestHost();
        Assert.False(host.Ready);
        host.Enable();
        Assert.True(host.Ready);
        Assert.False(host.Fatal);
        host.Disable();
        Assert.False(host.Ready);
        Assert.Equal(0u, host.Read32(NvmeRegisters.CstsOffset));
        // AQA/ASQ/ACQ survive a reset (section 3.7.2), so enabling again works at once.
        host.Write32(NvmeRegisters.CcOffset, NvmeTestHost.CcEnabled);
        Assert.True(host.Ready);
    }

    [Theory]
    [InlineData(0u, NvmeTestHost.AdminSq, NvmeTestHost.AdminCq)]                 // AQA sizes of 1 entry
    [InlineData(0x001F_001Fu, NvmeTestHost.AdminSq + 8, NvmeTestHost.AdminCq)]    // ASQ not page aligned
    [InlineData(0x001F_001Fu, 0x1000UL, NvmeTestHost.AdminCq)]                   // ASQ outside RAM
    [InlineData(0x001F_001Fu, NvmeTestHost.AdminSq, 0xFFFF_F000UL)]              // ACQ outside RAM
    public void Enabling_with_bad_admin_queue_registers_reports_fatal_status_not_ready(uint aqa, ulong asq, ulong acq)
    {
        using var host = new NvmeTestHost();
        host.Write32(NvmeRegisters.AqaOffset, aqa);
        host.Controller.WriteMmio(NvmeRegisters.AsqOffset, 8, asq);
        host.Controller.WriteMmio(NvmeRegisters.AcqOffset, 8, acq);
        host.Write32(NvmeRegisters.CcOffset, NvmeTestHost.CcEnabled);
        Assert.False(host.Ready);
        Assert.True(host.Fatal);
        Assert.NotNull(host.Controller.LastEnableFailure);
        // A reset clears it and a good configuration then works.
        host.Disable();
        Assert.False(host.Fatal);
        host.Enable();
        Assert.True(host.Ready);
    }

    [Fact]
    public void Unsupported_page_size_fails_the_enable()
    {
        using var host = new NvmeTestHost();
        host.Enable();
        host.Disable();
        host.Write32(NvmeRegisters.CcOffset, NvmeTestHost.CcEnabled | (1u << 7)); // MPS = 8 KiB
        Assert.True(host.Fatal);
    }

    [Fact]
    public void Shutdown_notification_reports_shutdown_complete_and_stops_processing()
    {
        using var host = new NvmeTestHost();
        host.Enable();
        host.Write32(NvmeRegisters.CcOffset, NvmeTestHost.CcEnabled | (1u << 14)); // SHN = normal
        Assert.Equal(ShutdownStatus.Complete, host.Controller.Registers.CstsShst);
        Assert.Equal(2u, (host.Read32(NvmeRegisters.CstsOffset) >> 2) & 3);
        // Commands are no longer processed.
        host.Submit(host.Admin, Commands.Identify(IdentifyCns.Controller, 0, NvmeTestHost.DataArea));
        host.RingSq(host.Admin);
        Assert.False(host.TryReap(host.Admin, out _));
        // Reset and enable again: normal operation.
        host.Disable();
        host.Enable();
        Assert.Equal(ShutdownStatus.Normal, host.Controller.Registers.CstsShst);
        Assert.Equal(NvmeStatus.Success, host.AdminCommand(Commands.Identify(IdentifyCns.Controller, 0, NvmeTestHost.DataArea)).Status);
    }

    [Fact]
    public void Interrupt_mask_set_and_clear_maintain_one_mask()
    {
        using var host = new NvmeTestHost();
        host.Write32(NvmeRegisters.IntmsOffset, 0b101);
        Assert.Equal(0b101u, host.Read32(NvmeRegisters.IntmsOffset));
        host.Write32(NvmeRegisters.IntmcOffset, 0b001);
        Assert.Equal(0b100u, host.Read32(NvmeRegisters.IntmsOffset));
        Assert.Equal(0b100u, host.Read32(NvmeRegisters.IntmcOffset));
    }

    [Fact]
    public void A_narrow_interrupt_mask_write_changes_only_the_bits_of_its_own_bytes()
    {
        // Found by the hostile guest's sweep: a 1-byte INTMC write cleared every mask bit outside its byte.
        using var host = new NvmeTestHost();
        host.Write32(NvmeRegisters.IntmsOffset, 0x8421_0F0F);
        host.Controller.WriteMmio(NvmeRegisters.IntmcOffset + 1, 1, 0x0F);   // clear bits 8..11
        Assert.Equal(0x8421_000Fu, host.Read32(NvmeRegisters.IntmcOffset));
        host.Controller.WriteMmio(NvmeRegisters.IntmsOffset + 2, 2, 0x1000); // set bit 28
        Assert.Equal(0x9421_000Fu, host.Read32(NvmeRegisters.IntmsOffset));
        host.Controller.WriteMmio(NvmeRegisters.IntmcOffset + 3, 1, 0);       // writing 0 clears nothing
        Assert.Equal(0x9421_000Fu, host.Read32(NvmeRegisters.IntmsOffset));
        Assert.Equal(0x9421_000Fu, host.Read32(NvmeRegisters.IntmcOffset));
    }

    [Fact]
    public void Odd_sizes_and_undefined_offsets_never_throw()
    {
        using var host = new NvmeTestHost();
        foreach (int size in new[] { 0, 1, 2, 3, 4, 5, 8, 16, -1 })
        {
            foreach (ulong offset in new ulong[] { 0, 3, 0x18, 0x38, 0xFFF, 0x1000, 0x1002, 0x1088, 0x3FFC, 0x4000, ulong.MaxValue })
            {
                host.Controller.ReadMmio(offset, size);
                host.Controller.WriteMmio(offset, size, ulong.MaxValue);
            }
        }
        Assert.Equal(0, host.Controller.Counters.InternalErrors);
    }
}
