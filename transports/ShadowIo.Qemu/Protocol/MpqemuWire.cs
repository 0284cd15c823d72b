using System.Buffers.Binary;

namespace ShadowIo.Qemu.Protocol;

/// <summary>
/// Byte layout of the multi-process protocol on x86_64 (QEMU and the remote share one host,
/// so everything is native-endian, which is little-endian here).
/// </summary>
/// <remarks>
/// <c>MPQemuMsg</c> starts with <c>int cmd</c>, 4 bytes of padding and <c>size_t size</c>; the
/// payload follows, at most the size of the <c>data</c> union (the 192-byte SyncSysmemMsg).
/// QEMU sends header and payload in one <c>sendmsg</c> with any fds attached as SCM_RIGHTS.
/// </remarks>
internal static class MpqemuWire
{
    public const int HeaderSize = 16;

    /// <summary>The largest payload QEMU accepts or sends (<c>sizeof(msg->data)</c>).</summary>
    public const int MaxPayloadSize = SyncSysmemSize;

    /// <summary><c>REMOTE_MAX_FDS</c>: regions per SYNC_SYSMEM.</summary>
    public const int MaxFds = 8;

    /// <summary><c>PciConfDataMsg</c>: u32 addr, u32 val, int len.</summary>
    public const int ConfigAccessSize = 12;

    /// <summary><c>BarAccessMsg</c>: u64 addr, u64 val, unsigned size, bool memory, padded to 24.</summary>
    public const int BarAccessSize = 24;

    /// <summary><c>SyncSysmemMsg</c>: hwaddr gpas[8], u64 sizes[8], off_t offsets[8].</summary>
    public const int SyncSysmemSize = 3 * 8 * MaxFds;

    /// <summary>RET carries one u64.</summary>
    public const int RetSize = 8;

    /// <summary>What QEMU's proxy treats as a failed request.</summary>
    public const ulong ErrorValue = ulong.MaxValue;

    public static void WriteHeader(Span<byte> destination, MpqemuCommand command, ulong payloadSize)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, (int)command);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], payloadSize);
    }

    public static (int Command, ulong PayloadSize) ReadHeader(ReadOnlySpan<byte> header) =>
        (BinaryPrimitives.ReadInt32LittleEndian(header), BinaryPrimitives.ReadUInt64LittleEndian(header[8..]));
}
