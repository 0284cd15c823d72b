using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary><c>struct kvm_cpuid2</c> header; <c>nent</c> entries of <see cref="KvmCpuidEntry2"/> follow it; 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmCpuid2
{
    public uint Nent;
    public uint Padding;
}

/// <summary><c>struct kvm_cpuid_entry2</c>: one CPUID leaf/subleaf; 40 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmCpuidEntry2
{
    public uint Function;
    public uint Index;
    public uint Flags;
    public uint Eax, Ebx, Ecx, Edx;
    public uint Padding0, Padding1, Padding2;
}
