using System.Buffers.Binary;
using System.Text;

namespace ShadowIo.Devices.Nvme;

/// <summary>
/// Builds the 4 KiB Identify data structures (NVMe base spec 5.17.2, NVM command set spec 4.1.5).
/// Offsets are the spec's byte offsets; only what a driver (Linux nvme-pci, our test guest) reads
/// is filled, the rest stays zero.
/// </summary>
internal static class IdentifyData
{
    public const int Size = 4096;

    /// <summary>OACS bit 8: Doorbell Buffer Config supported.</summary>
    public const ushort OacsDoorbellBufferConfig = 1 << 8;

    /// <summary>ONCS bit 3: Write Zeroes supported.</summary>
    public const ushort OncsWriteZeroes = 1 << 3;

    /// <summary>Identify Controller (CNS 01h).</summary>
    public static void WriteController(Span<byte> d, NvmeControllerOptions options, uint version)
    {
        d[..Size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(d[0..], 0x1B36);   // VID: QEMU's PCI vendor, a known-good value for drivers.
        BinaryPrimitives.WriteUInt16LittleEndian(d[2..], 0x1AF4);   // SSVID
        Ascii(d.Slice(4, 20), options.SerialNumber);                // SN
        Ascii(d.Slice(24, 40), options.ModelNumber);                // MN
        Ascii(d.Slice(64, 8), options.FirmwareRevision);            // FR
        d[72] = 6;                                                  // RAB: 64 commands
        d[77] = (byte)options.MaxDataTransferShift;                 // MDTS
        BinaryPrimitives.WriteUInt16LittleEndian(d[78..], 0);       // CNTLID
        BinaryPrimitives.WriteUInt32LittleEndian(d[80..], version); // VER
        BinaryPrimitives.WriteUInt16LittleEndian(d[256..], OacsDoorbellBufferConfig); // OACS
        d[258] = 3;                                                 // ACL: 4 concurrent Aborts (0's based)
        d[259] = AsyncEvents.RequestLimit - 1;                      // AERL (0's based)
        d[260] = 0x02;                                              // FRMW: 1 slot, slot 1 read-only
        d[261] = 0x04;                                              // LPA: extended Get Log Page data (NUMDU, LPO)
        d[262] = ErrorLog.Entries - 1;                              // ELPE (0's based)
        BinaryPrimitives.WriteUInt16LittleEndian(d[266..], 0x0157); // WCTEMP
        BinaryPrimitives.WriteUInt16LittleEndian(d[268..], 0x0175); // CCTEMP
        d[512] = 0x66;                                              // SQES: 64-byte entries, required and maximum
        d[513] = 0x44;                                              // CQES: 16-byte entries
        BinaryPrimitives.WriteUInt16LittleEndian(d[514..], 0);      // MAXCMD (not limited)
        BinaryPrimitives.WriteUInt32LittleEndian(d[516..], 1);      // NN: one namespace
        BinaryPrimitives.WriteUInt16LittleEndian(d[520..], OncsWriteZeroes); // ONCS
        d[525] = 0x01;                                              // VWC: volatile write cache present (Flush means something)
        Ascii(d.Slice(768, 256), "nqn.2026-11.io.shadowio:nvme:" + options.SerialNumber); // SUBNQN
        BinaryPrimitives.WriteUInt16LittleEndian(d[2048..], 2500);  // PSD0 MP: 25 W (centiwatts)
    }

    /// <summary>Identify Namespace (CNS 00h) for the single namespace with one LBA format.</summary>
    public static void WriteNamespace(Span<byte> d, ulong blocks, int lbaShift)
    {
        d[..Size].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(d[0..], blocks);   // NSZE
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], blocks);   // NCAP
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], blocks);  // NUSE
        d[25] = 0;                                                  // NLBAF: one format (0's based)
        d[26] = 0;                                                  // FLBAS: format 0
        BinaryPrimitives.WriteUInt32LittleEndian(d[128..], (uint)lbaShift << 16); // LBAF0: LBADS, no metadata
    }

    /// <summary>Active Namespace ID list (CNS 02h): IDs greater than <paramref name="afterNsid"/>.</summary>
    public static void WriteActiveNamespaceList(Span<byte> d, uint afterNsid)
    {
        d[..Size].Clear();
        if (afterNsid < NvmeController.NamespaceId) BinaryPrimitives.WriteUInt32LittleEndian(d, NvmeController.NamespaceId);
    }

    /// <summary>Namespace Identification Descriptor list (CNS 03h): one UUID descriptor.</summary>
    public static void WriteNamespaceDescriptors(Span<byte> d, ReadOnlySpan<byte> uuid)
    {
        d[..Size].Clear();
        d[0] = 0x03; // NIDT: UUID
        d[1] = 16;   // NIDL
        uuid.CopyTo(d[4..20]);
    }

    private static void Ascii(Span<byte> field, string text)
    {
        field.Fill((byte)' ');
        int n = Math.Min(field.Length, text.Length);
        Encoding.ASCII.GetBytes(text.AsSpan(0, n), field);
    }
}
