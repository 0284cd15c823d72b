using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary><c>struct kvm_dtable</c>: GDTR/IDTR; 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmDtable
{
    public ulong Base;
    public ushort Limit;
    public ushort Padding0, Padding1, Padding2;
}
