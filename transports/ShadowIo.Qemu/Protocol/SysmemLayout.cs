using System.Buffers.Binary;

namespace ShadowIo.Qemu.Protocol;

/// <summary>One guest RAM region of a SYNC_SYSMEM message: [gpa, gpa + size) is the fd's bytes from offset.</summary>
internal readonly record struct SysmemRegion(ulong GuestPhysicalAddress, ulong Size, long FileOffset);

/// <summary>A SYNC_SYSMEM payload (<c>SyncSysmemMsg</c>): three arrays of eight, parallel to the fds.</summary>
internal static class SysmemLayout
{
    /// <summary>Reads region <paramref name="index"/> (0..7) of the payload.</summary>
    public static SysmemRegion Read(ReadOnlySpan<byte> payload, int index) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(payload[(8 * index)..]),
        BinaryPrimitives.ReadUInt64LittleEndian(payload[(8 * (MpqemuWire.MaxFds + index))..]),
        BinaryPrimitives.ReadInt64LittleEndian(payload[(8 * (2 * MpqemuWire.MaxFds + index))..]));

    public static void Write(Span<byte> payload, int index, SysmemRegion region)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload[(8 * index)..], region.GuestPhysicalAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[(8 * (MpqemuWire.MaxFds + index))..], region.Size);
        BinaryPrimitives.WriteInt64LittleEndian(payload[(8 * (2 * MpqemuWire.MaxFds + index))..], region.FileOffset);
    }
}
