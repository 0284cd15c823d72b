using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary><c>struct kvm_cpuid2</c> header; <c>nent</c> entries of <see cref="KvmCpuidEntry2"/> follow it; 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmCpuid2
{
    public uint Nent;
    public uint Padding;
}
