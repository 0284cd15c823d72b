using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary>
/// <c>struct kvm_cpuid_entry2</c>: one CPUID leaf/subleaf the guest sees; 40 bytes. Public because
/// it is what <see cref="KvmSystem.GetSupportedCpuid"/> returns and <see cref="KvmVcpu.SetCpuid"/>
/// takes: a VMM edits these (hides a feature bit, sets a vendor string) before setting them.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmCpuidEntry2
{
    /// <summary>The leaf: the EAX value of the CPUID instruction.</summary>
    public uint Function;
    /// <summary>The subleaf: the ECX value, where <see cref="Flags"/> has <c>KVM_CPUID_FLAG_SIGNIFCANT_INDEX</c> (bit 0).</summary>
    public uint Index;
    /// <summary><c>KVM_CPUID_FLAG_*</c> bits: bit 0 significant index; bits 1-2 are the kernel's stateful-leaf bookkeeping.</summary>
    public uint Flags;
    /// <summary>What CPUID returns in EAX for this leaf/subleaf.</summary>
    public uint Eax;
    /// <summary>What CPUID returns in EBX.</summary>
    public uint Ebx;
    /// <summary>What CPUID returns in ECX.</summary>
    public uint Ecx;
    /// <summary>What CPUID returns in EDX.</summary>
    public uint Edx;
    /// <summary>Reserved (<c>padding[0]</c>); zero.</summary>
    public uint Padding0;
    /// <summary>Reserved (<c>padding[1]</c>); zero.</summary>
    public uint Padding1;
    /// <summary>Reserved (<c>padding[2]</c>); zero.</summary>
    public uint Padding2;
}
