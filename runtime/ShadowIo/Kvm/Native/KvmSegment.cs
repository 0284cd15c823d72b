using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary><c>struct kvm_segment</c>: a segment register's descriptor cache; 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmSegment
{
    public ulong Base;
    public uint Limit;
    public ushort Selector;
    public byte Type;
    public byte Present, Dpl, Db, S, L, G, Avl;
    public byte Unusable;
    public byte Padding;
}
