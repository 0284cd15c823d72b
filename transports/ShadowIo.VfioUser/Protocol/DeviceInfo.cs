using System.Buffers.Binary;
using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>DEVICE_GET_INFO's flags (linux/vfio.h VFIO_DEVICE_FLAGS_*).</summary>
[Flags]
internal enum DeviceInfoFlags : uint
{
    /// <summary>The device supports DEVICE_RESET (QEMU sends it only then).</summary>
    Reset = 1,
    /// <summary>A PCI device (QEMU's vfio-user-pci requires it).</summary>
    Pci = 2,
}

/// <summary>
/// DEVICE_GET_INFO (16 bytes both ways): argsz u32 @0, flags u32 @4, num_regions u32 @8, num_irqs
/// u32 @12. The request carries only argsz (the largest reply accepted); QEMU requires the PCI flag,
/// 8 to 100 regions and 3 to 50 IRQ indices.
/// </summary>
/// <param name="Flags">RESET, PCI.</param>
/// <param name="RegionCount">num_regions (9 for PCI: BARs, ROM, config, VGA).</param>
/// <param name="IrqCount">num_irqs (5 for PCI: INTx, MSI, MSI-X, ERR, REQ).</param>
internal readonly record struct DeviceInfo(DeviceInfoFlags Flags, uint RegionCount, uint IrqCount)
{
    /// <summary>Bytes on the wire, both ways.</summary>
    public const int WireSize = 16;

    /// <summary>Decodes a request: EINVAL for a short payload, an argsz below 16, or any fd.</summary>
    public static int DecodeRequest(ReadOnlySpan<byte> payload, int fdCount)
    {
        if (payload.Length < WireSize || BinaryPrimitives.ReadUInt32LittleEndian(payload) < WireSize || fdCount != 0)
            return Errno.EINVAL;
        return 0;
    }

    /// <summary>Writes a request (argsz 16, the rest zero).</summary>
    public static int EncodeRequest(Span<byte> destination)
    {
        Wire.Require(destination, WireSize, "DEVICE_GET_INFO");
        destination[..WireSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, WireSize);
        return WireSize;
    }

    /// <summary>Decodes a reply: EINVAL for a short payload or argsz, or unknown flags.</summary>
    public static int DecodeReply(ReadOnlySpan<byte> payload, out DeviceInfo info)
    {
        info = default;
        if (payload.Length < WireSize || BinaryPrimitives.ReadUInt32LittleEndian(payload) < WireSize)
            return Errno.EINVAL;
        var flags = (DeviceInfoFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        if ((flags & ~(DeviceInfoFlags.Reset | DeviceInfoFlags.Pci)) != 0)
            return Errno.EINVAL;
        info = new DeviceInfo(flags, BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]), BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]));
        return 0;
    }

    /// <summary>Writes the reply.</summary>
    public int EncodeReply(Span<byte> destination)
    {
        Wire.Require(destination, WireSize, "DEVICE_GET_INFO");
        BinaryPrimitives.WriteUInt32LittleEndian(destination, WireSize);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], RegionCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], IrqCount);
        return WireSize;
    }
}
