using System.Runtime.InteropServices;

namespace ShadowIo.Devices.Nvme;

/// <summary>
/// A 64-byte submission queue entry (NVMe base spec, "Common Command Format"), read from guest
/// memory in one bounds-checked copy. The guest may rewrite the slot at any time; the
/// controller only ever looks at this private copy.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
internal struct SubmissionEntry
{
    public const int Size = 64;

    /// <summary>Opcode 7:0, FUSE 9:8, PSDT 15:14, Command Identifier 31:16.</summary>
    public uint Cdw0;
    public uint Nsid;
    public uint Cdw2;
    public uint Cdw3;
    public ulong Mptr;
    public ulong Prp1;
    public ulong Prp2;
    public uint Cdw10;
    public uint Cdw11;
    public uint Cdw12;
    public uint Cdw13;
    public uint Cdw14;
    public uint Cdw15;

    public readonly byte Opcode => (byte)Cdw0;

    public readonly int Fuse => (int)(Cdw0 >> 8) & 0x3;

    /// <summary>PRP or SGL selector: 0 = PRPs (the only kind this controller accepts).</summary>
    public readonly int Psdt => (int)(Cdw0 >> 14) & 0x3;

    public readonly ushort CommandId => (ushort)(Cdw0 >> 16);

    /// <summary>Builds CDW0 from an opcode and command identifier (for drivers and tests).</summary>
    public static uint MakeCdw0(byte opcode, ushort commandId) => opcode | ((uint)commandId << 16);
}

/// <summary>A 16-byte completion queue entry as the host driver reads it.</summary>
internal readonly record struct CompletionEntry(uint Result, ushort SqHead, ushort SqId, ushort CommandId, ushort StatusField)
{
    public const int Size = 16;

    public bool Phase => (StatusField & NvmeStatusField.PhaseBit) != 0;

    public NvmeStatus Status => NvmeStatusField.Decode(StatusField);

    public bool DoNotRetry => (StatusField & NvmeStatusField.DoNotRetryBit) != 0;

    /// <summary>Parses an entry from its 16 bytes.</summary>
    public static CompletionEntry Parse(ReadOnlySpan<byte> bytes) => new(
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]),
        System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes[10..]),
        System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes[12..]),
        System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes[14..]));
}
