using Xunit;
using ShadowIo.Linux.Tests.Qemu.Support;

namespace ShadowIo.Linux.Tests.Qemu;

/// <summary>The type-0 header as QEMU's proxy probes it at realize time and as the guest's PCI core reads it.</summary>
public sealed class ProxyConfigSpaceTests
{
    [Fact]
    public void Probe_like_qemu_finds_identity_and_one_32_bit_memory_bar()
    {
        using var served = new ServedDevice();
        var proxy = served.Proxy;
        Assert.Equal(0x1b36u, proxy.ConfigRead(0x00, 2));
        Assert.Equal(0x1234u, proxy.ConfigRead(0x02, 2));
        Assert.Equal(0x0108u, proxy.ConfigRead(0x0a, 2));   // PCI_CLASS_DEVICE: base class 01, sub-class 08
        Assert.Equal(0x02u, proxy.ConfigRead(0x09, 1));     // NVMe programming interface
        Assert.Equal(0x1100u, proxy.ConfigRead(0x2e, 2));
        Assert.Equal(0x1af4u, proxy.ConfigRead(0x2c, 2));
        Assert.Equal(1u, proxy.ConfigRead(0x3d, 1));        // INTA#
        Assert.Equal(0u, proxy.ConfigRead(0x0e, 1));        // header type 0

        // probe_pci_info: for each of the 7 regions, read, write all ones, read, restore.
        var sizes = new uint[7];
        for (uint i = 0; i < 7; i++)
        {
            uint offset = 0x10 + 4 * i;
            uint original = proxy.ConfigRead(offset, 4);
            proxy.ConfigWrite(offset, 0xffff_ffff, 4);
            uint sized = proxy.ConfigRead(offset, 4);
            proxy.ConfigWrite(offset, original, 4);
            sizes[i] = ~(sized & 0xffff_fff0) + 1;
            if (i == 0) Assert.Equal(0u, sized & 0xf);     // memory, 32-bit, not prefetchable
            Assert.Equal(original, proxy.ConfigRead(offset, 4));
        }
        Assert.Equal([(uint)ServedDevice.Bar0Size, 0, 0, 0, 0, 0, 0], sizes);
    }

    [Fact]
    public void Identity_registers_are_read_only_and_command_keeps_only_implemented_bits()
    {
        using var served = new ServedDevice();
        var proxy = served.Proxy;
        Assert.Equal(0ul, proxy.ConfigWrite(0x00, 0xdead_beef, 4));
        Assert.Equal(0x1234_1b36u, proxy.ConfigRead(0x00, 4));
        proxy.ConfigWrite(0x04, 0xffff, 2);
        Assert.Equal(0x0407u, proxy.ConfigRead(0x04, 2));
        proxy.ConfigWrite(0x3c, 0x0b, 1);
        Assert.Equal(0x010bu, proxy.ConfigRead(0x3c, 2)); // line 0x0b, pin INTA#
    }

    [Fact]
    public void Bar_base_written_by_the_guest_reads_back_aligned_to_the_bar_size()
    {
        using var served = new ServedDevice();
        served.Proxy.ConfigWrite(0x10, 0xfebf_1234, 4);
        Assert.Equal(0xfebf_0000u, served.Proxy.ConfigRead(0x10, 4));
        Assert.Equal(0xfebf_0000ul, served.Server.ConfigSpace.GetBarBase(0));
    }

    [Fact]
    public void Device_reset_answers_ret_restores_power_on_state_and_resets_the_device()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        Assert.Equal(0ul, served.Proxy.Reset());
        Assert.Equal(1, served.Device.Resets);
        Assert.Equal(0u, served.Proxy.ConfigRead(0x04, 2));
        Assert.Equal(0u, served.Proxy.ConfigRead(0x10, 4));
        Assert.Equal(1L, served.Server.Statistics.Resets);
    }
}
