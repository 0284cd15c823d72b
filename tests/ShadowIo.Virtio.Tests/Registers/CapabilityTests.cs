using System.Buffers.Binary;
using ShadowIo.Devices.Virtio;
using Xunit;

namespace ShadowIo.Virtio.Tests.Registers;

/// <summary>The vendor capabilities' bytes against section 4.1.4 (struct virtio_pci_cap and its extensions).</summary>
public sealed class CapabilityTests
{
    [Fact]
    public void The_chain_names_every_structure_in_the_bar_and_links_each_to_the_next()
    {
        const byte first = 0x40;
        byte[] bytes = VirtioPciCapabilities.Encode(first, next: 0x98);
        var seen = new List<(byte Type, byte Bar, uint Offset, uint Length, int CapLen)>();
        int at = 0;
        while (true)
        {
            var cap = bytes.AsSpan(at);
            Assert.Equal(0x09, cap[0]);                          // cap_vndr: PCI_CAP_ID_VNDR
            seen.Add((cap[3], cap[4], BinaryPrimitives.ReadUInt32LittleEndian(cap[8..]), BinaryPrimitives.ReadUInt32LittleEndian(cap[12..]), cap[2]));
            if (cap[3] == 2) Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(cap[16..])); // notify_off_multiplier
            Assert.Equal(0, cap[5]);                             // id
            byte next = cap[1];
            if (at + cap[2] == bytes.Length)
            {
                Assert.Equal(0x98, next);                        // the caller's next capability
                break;
            }
            Assert.Equal(first + at + cap[2], next);
            Assert.Equal(0, next & 3);
            at = next - first;
        }
        Assert.Equal(
            [(1, 4, 0x0000u, 0x3Cu, 16), (3, 4, 0x1000u, 1u, 16), (4, 4, 0x2000u, 0x48u, 16), (2, 4, 0x3000u, 16u, 20), (5, 0, 0u, 0u, 20)],
            seen.Select(s => ((int)s.Type, (int)s.Bar, s.Offset, s.Length, s.CapLen)));
    }

    [Fact]
    public void The_notify_capability_covers_every_queue_doorbell()
    {
        var notify = VirtioPciCapabilities.All.Single(c => c.Type == VirtioPciCapabilityType.NotifyConfig);
        // Section 4.1.4.4.1: the device MUST make cap.length at least queue_notify_off × multiplier + 2 for every queue.
        for (int queue = 0; queue < VirtioPciLayout.MaxQueues; queue++)
            Assert.True((ulong)(queue * VirtioPciLayout.NotifyOffMultiplier + 2) <= notify.Length);
        // And the multiplier is even (4.1.4.4.1: "The device MUST either present notify_off_multiplier as an even power of 2, or present notify_off_multiplier as 0").
        Assert.Equal(0u, notify.NotifyOffMultiplier & (notify.NotifyOffMultiplier - 1));
    }

    [Fact]
    public void The_chain_must_fit_configuration_space()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VirtioPciCapabilities.Encode(0x3C));
        Assert.Throws<ArgumentOutOfRangeException>(() => VirtioPciCapabilities.Encode(0x42));
        Assert.Throws<ArgumentOutOfRangeException>(() => VirtioPciCapabilities.Encode(0xF0));
    }

    [Fact]
    public void Pci_identity_is_a_modern_block_device()
    {
        // Section 4.1.2.1: vendor 0x1AF4, device 0x1040 + device ID (block: 2), revision ≥ 1 for non-transitional devices.
        Assert.Equal((0x1AF4, 0x1042, 1), ((int)VirtioPciLayout.PciVendorId, (int)VirtioPciLayout.PciDeviceId, (int)VirtioPciLayout.PciRevisionId));
    }
}
