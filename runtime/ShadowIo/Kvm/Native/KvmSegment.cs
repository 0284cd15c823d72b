using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary>
/// <c>struct kvm_segment</c>: a segment register's hidden descriptor cache, set directly (no
/// descriptor table needs to exist in guest memory); 24 bytes. The one-byte flags are 0 or 1.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmSegment
{
    /// <summary>Segment base (ignored for CS/DS/ES/SS in 64-bit mode).</summary>
    public ulong Base;
    /// <summary>Segment limit in bytes, already scaled by <see cref="G"/> (0xffffffff for a flat 4 GiB segment).</summary>
    public uint Limit;
    /// <summary>The selector value (table index, TI bit, RPL).</summary>
    public ushort Selector;
    /// <summary>Descriptor type field (4 bits): e.g. 11 = execute/read accessed code, 3 = read/write accessed data, 11 = busy 64-bit TSS.</summary>
    public byte Type;
    /// <summary>Present bit.</summary>
    public byte Present;
    /// <summary>Descriptor privilege level, 0-3 (CS.DPL is the CPL).</summary>
    public byte Dpl;
    /// <summary>Default operation size: 1 = 32-bit (must be 0 for a 64-bit code segment).</summary>
    public byte Db;
    /// <summary>Descriptor type: 1 = code or data, 0 = system (TSS, LDT).</summary>
    public byte S;
    /// <summary>64-bit code segment (long mode).</summary>
    public byte L;
    /// <summary>Granularity: the limit counts 4 KiB units.</summary>
    public byte G;
    /// <summary>Available-for-software bit.</summary>
    public byte Avl;
    /// <summary>The segment is unusable (a null selector loaded); VM entry checks skip it.</summary>
    public byte Unusable;
    /// <summary>Reserved.</summary>
    public byte Padding;
}
