using System.Buffers.Binary;

namespace ShadowIo.Devices.Nvme;

/// <summary>
/// The Error Information log page (LID 01h): the most recent errors, newest first, 64 bytes each.
/// Identify ELPE (0's based) tells the host how many entries there are.
/// </summary>
internal sealed class ErrorLog
{
    public const int Entries = 16;
    public const int EntrySize = 64;

    private readonly byte[] _ring = new byte[Entries * EntrySize];
    private int _newest = -1;
    private ulong _errorCount;

    public int SizeInBytes => _ring.Length;

    /// <summary>Records one error (section 5.16.1.2: Error Count, SQID, CID, Status Field).</summary>
    public void Record(ushort sqId, ushort commandId, NvmeStatus status, ulong lba = 0, uint nsid = 0)
    {
        _errorCount++;
        _newest = (_newest + 1) % Entries;
        var e = _ring.AsSpan(_newest * EntrySize, EntrySize);
        e.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(e, _errorCount);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], sqId);
        BinaryPrimitives.WriteUInt16LittleEndian(e[10..], commandId);
        BinaryPrimitives.WriteUInt16LittleEndian(e[12..], (ushort)(NvmeStatusField.Encode(status, false) & ~NvmeStatusField.PhaseBit));
        BinaryPrimitives.WriteUInt16LittleEndian(e[14..], 0xFFFF); // Parameter Error Location: not given.
        BinaryPrimitives.WriteUInt64LittleEndian(e[16..], lba);
        BinaryPrimitives.WriteUInt32LittleEndian(e[24..], nsid);
    }

    /// <summary>Writes the page, newest entry first; empty entries stay zero.</summary>
    public void CopyTo(Span<byte> page)
    {
        page[..SizeInBytes].Clear();
        if (_newest < 0) return;
        int count = (int)Math.Min(_errorCount, Entries);
        for (int i = 0; i < count; i++)
        {
            int slot = (_newest - i + Entries) % Entries;
            _ring.AsSpan(slot * EntrySize, EntrySize).CopyTo(page[(i * EntrySize)..]);
        }
    }

    public void Clear()
    {
        Array.Clear(_ring);
        _newest = -1;
        _errorCount = 0;
    }
}
