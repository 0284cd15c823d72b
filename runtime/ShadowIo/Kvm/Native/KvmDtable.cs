using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary><c>struct kvm_dtable</c>: a descriptor-table register (GDTR or IDTR) in <see cref="KvmSregs"/>; 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmDtable
{
    /// <summary>Linear address of the table.</summary>
    public ulong Base;
    /// <summary>The table's size in bytes minus one (as LGDT/LIDT take it).</summary>
    public ushort Limit;
    /// <summary>Reserved (<c>padding[0]</c>).</summary>
    public ushort Padding0;
    /// <summary>Reserved (<c>padding[1]</c>).</summary>
    public ushort Padding1;
    /// <summary>Reserved (<c>padding[2]</c>).</summary>
    public ushort Padding2;
}
