using System.Buffers.Binary;
using ShadowIo.Native;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.VfioUser.Server;

/// <summary>REGION_READ/WRITE on config space and BARs.</summary>
public sealed partial class VfioUserServer
{
    /// <summary>A region's size: the BAR's, 256 for config space, 0 for an absent BAR (or a 64-bit BAR's upper half), the ROM and VGA.</summary>
    private ulong RegionSize(uint index) => index switch
    {
        <= RegionIndex.Bar5 => ConfigSpace.GetBar((int)index)?.Size ?? 0,
        RegionIndex.Config => PciConfigSpace.Size,
        _ => 0,
    };

    /// <summary>
    /// Reads or writes <paramref name="data"/> at <paramref name="offset"/> of a region: EINVAL for a
    /// region without that range. BAR accesses are cut into naturally aligned pieces of at most 8
    /// bytes, each one dispatched access (QEMU sends guest-sized accesses, so that is one piece).
    /// </summary>
    private int AccessRegion(uint region, ulong offset, Span<byte> data, bool write)
    {
        ulong size = RegionSize(region);
        if (offset >= size || (ulong)data.Length > size - offset)
            return Problem(Errno.EINVAL, $"{data.Length} bytes at 0x{offset:x} of region {region} ({size} bytes)");
        if (region == RegionIndex.Config)
        {
            // Byte by byte: the space merges each byte through its writable mask, so this equals any wider access.
            for (int i = 0; i < data.Length; i++)
            {
                uint at = (uint)offset + (uint)i;
                if (write) ConfigSpace.Write(at, data[i], 1);
                else data[i] = (byte)ConfigSpace.Read(at, 1);
            }
            return 0;
        }
        var bar = ConfigSpace.GetBar((int)region)!;
        int done = 0;
        while (done < data.Length)
        {
            ulong at = offset + (ulong)done;
            int piece = 8;
            while (piece > 1 && (at % (ulong)piece != 0 || piece > data.Length - done)) piece /= 2;
            var bytes = data.Slice(done, piece);
            if (write) WriteBar(bar, at, piece, ReadLittleEndian(bytes));
            else WriteLittleEndian(bytes, bar.Device.ReadMmio(at, piece));
            done += piece;
        }
        return 0;
    }

    private void WriteBar(PciBar bar, ulong offset, int size, ulong value)
    {
        var doorbells = bar.Doorbells;
        // The doorbell table's offsets are the block's, which starts DoorbellOffset into the BAR.
        bool inBlock = doorbells != null && offset >= bar.DoorbellOffset;
        ulong blockOffset = offset - bar.DoorbellOffset;
        if (inBlock && doorbells!.Table.TryFind(blockOffset, out _)) Interlocked.Increment(ref Statistics.DoorbellWritesField);
        // The trap path KVM's exits take: shadow value, then the row's eventfd; otherwise the device's dispatch.
        if (!inBlock || !doorbells!.TryHandleWrite(blockOffset, size, value))
            bar.Device.WriteMmio(offset, size, value);
    }

    private static ulong ReadLittleEndian(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        8 => BinaryPrimitives.ReadUInt64LittleEndian(bytes),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        _ => bytes[0],
    };

    private static void WriteLittleEndian(Span<byte> bytes, ulong value)
    {
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(value >> (8 * i));
    }
}
