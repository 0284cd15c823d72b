using System.Buffers.Binary;

namespace ShadowIo.Devices.Virtio;

/// <summary><c>cfg_type</c> of a virtio-pci vendor capability (virtio 1.2, section 4.1.4).</summary>
public enum VirtioPciCapabilityType : byte
{
    /// <summary>VIRTIO_PCI_CAP_COMMON_CFG: common configuration.</summary>
    CommonConfig = 1,
    /// <summary>VIRTIO_PCI_CAP_NOTIFY_CFG: notifications (carries notify_off_multiplier).</summary>
    NotifyConfig = 2,
    /// <summary>VIRTIO_PCI_CAP_ISR_CFG: ISR status.</summary>
    IsrConfig = 3,
    /// <summary>VIRTIO_PCI_CAP_DEVICE_CFG: device-specific configuration.</summary>
    DeviceConfig = 4,
    /// <summary>VIRTIO_PCI_CAP_PCI_CFG: the configuration-space window onto the BARs.</summary>
    PciConfig = 5,
}

/// <summary>
/// One virtio-pci vendor capability (<c>struct virtio_pci_cap</c>, section 4.1.4): which structure,
/// in which BAR, at which offset and length. The notify capability adds
/// <c>notify_off_multiplier</c> (<c>struct virtio_pci_notify_cap</c>); the PCI configuration access
/// capability adds the 4-byte <c>pci_cfg_data</c> window (<c>struct virtio_pci_cfg_cap</c>).
/// </summary>
/// <param name="Type">The structure the capability describes.</param>
/// <param name="Bar">The BAR it lives in (0–5); 0 and ignored for <see cref="VirtioPciCapabilityType.PciConfig"/>.</param>
/// <param name="Offset">Offset of the structure within the BAR.</param>
/// <param name="Length">Length of the structure in bytes.</param>
/// <param name="NotifyOffMultiplier">notify_off_multiplier, for <see cref="VirtioPciCapabilityType.NotifyConfig"/> only.</param>
public readonly record struct VirtioPciCapability(VirtioPciCapabilityType Type, byte Bar, uint Offset, uint Length, uint NotifyOffMultiplier = 0)
{
    /// <summary>PCI_CAP_ID_VNDR: a vendor-specific capability.</summary>
    public const byte VendorCapabilityId = 0x09;

    /// <summary>sizeof(struct virtio_pci_cap).</summary>
    public const int HeaderLength = 16;

    /// <summary>Bytes this capability takes in configuration space (<c>cap_len</c>).</summary>
    public int EncodedLength => Type is VirtioPciCapabilityType.NotifyConfig or VirtioPciCapabilityType.PciConfig ? HeaderLength + 4 : HeaderLength;

    /// <summary>
    /// Writes the capability's bytes: cap_vndr, cap_next = <paramref name="next"/>, cap_len,
    /// cfg_type, bar, id 0, two bytes of padding, offset, length (little-endian), then the
    /// multiplier or the zeroed pci_cfg_data window.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="EncodedLength"/>.</exception>
    public void Encode(Span<byte> destination, byte next)
    {
        if (destination.Length < EncodedLength) throw new ArgumentException($"A {Type} capability takes {EncodedLength} bytes.", nameof(destination));
        var bytes = destination[..EncodedLength];
        bytes.Clear();
        bytes[0] = VendorCapabilityId;
        bytes[1] = next;
        bytes[2] = (byte)EncodedLength;
        bytes[3] = (byte)Type;
        bytes[4] = Bar;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[12..], Length);
        if (Type == VirtioPciCapabilityType.NotifyConfig) BinaryPrimitives.WriteUInt32LittleEndian(bytes[16..], NotifyOffMultiplier);
    }
}

/// <summary>
/// The vendor capabilities a virtio-blk device exposes in its PCI configuration space, as bytes a
/// PCI model places in its capability list. Each capability's <c>offset</c>/<c>length</c> covers
/// the structure it names (not the 4 KiB reserved for it), as QEMU's do.
/// </summary>
/// <remarks>
/// The PCI configuration access capability (section 4.1.4.9, which a device must present) is
/// included as bytes; forwarding its <c>pci_cfg_data</c> window to the BAR belongs to the PCI model
/// that owns configuration space.
/// </remarks>
public static class VirtioPciCapabilities
{
    /// <summary>The capabilities in list order: common, ISR, device, notify, PCI configuration access.</summary>
    public static IReadOnlyList<VirtioPciCapability> All { get; } =
    [
        new(VirtioPciCapabilityType.CommonConfig, VirtioPciLayout.Bar, (uint)VirtioPciLayout.CommonConfigOffset, VirtioCommonConfigRegisters.StructureLength),
        new(VirtioPciCapabilityType.IsrConfig, VirtioPciLayout.Bar, (uint)VirtioPciLayout.IsrOffset, 1),
        new(VirtioPciCapabilityType.DeviceConfig, VirtioPciLayout.Bar, (uint)VirtioPciLayout.DeviceConfigOffset, VirtioBlkConfigRegisters.StructureLength),
        new(VirtioPciCapabilityType.NotifyConfig, VirtioPciLayout.Bar, (uint)VirtioPciLayout.NotifyOffset,
            (uint)(VirtioPciLayout.MaxQueues * VirtioPciLayout.NotifyOffMultiplier), VirtioPciLayout.NotifyOffMultiplier),
        new(VirtioPciCapabilityType.PciConfig, 0, 0, 0),
    ];

    /// <summary>Bytes of the whole chain.</summary>
    public static int EncodedLength => All.Sum(static c => c.EncodedLength);

    /// <summary>
    /// Encodes the chain for configuration-space offset <paramref name="firstOffset"/> (4-byte
    /// aligned, at least 0x40): each <c>cap_next</c> points at the next capability, the last at
    /// <paramref name="next"/> (0 ends the list, or the offset of, say, the MSI-X capability).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The chain would not fit the 256-byte configuration space, or the offset is misaligned.</exception>
    public static byte[] Encode(byte firstOffset, byte next = 0)
    {
        if (firstOffset < 0x40 || (firstOffset & 3) != 0 || firstOffset + EncodedLength > 0x100)
            throw new ArgumentOutOfRangeException(nameof(firstOffset), firstOffset, "Capabilities sit 4-byte aligned between 0x40 and the end of the 256-byte configuration space.");
        var bytes = new byte[EncodedLength];
        int at = 0;
        for (int i = 0; i < All.Count; i++)
        {
            var capability = All[i];
            byte following = i + 1 < All.Count ? (byte)(firstOffset + at + capability.EncodedLength) : next;
            capability.Encode(bytes.AsSpan(at), following);
            at += capability.EncodedLength;
        }
        return bytes;
    }
}
