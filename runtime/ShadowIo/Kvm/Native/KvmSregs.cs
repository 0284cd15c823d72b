using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary><c>struct kvm_sregs</c> (x86): segments, descriptor tables, control registers, EFER; 312 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmSregs
{
    public KvmSegment Cs, Ds, Es, Fs, Gs, Ss;
    public KvmSegment Tr, Ldt;
    public KvmDtable Gdt, Idt;
    public ulong Cr0, Cr2, Cr3, Cr4, Cr8;
    public ulong Efer;
    public ulong ApicBase;
    /// <summary><c>interrupt_bitmap[(KVM_NR_INTERRUPTS + 63) / 64]</c>: 256 interrupts, four words.</summary>
    public InterruptBitmap Interrupts;

    [InlineArray(4)]
    public struct InterruptBitmap
    {
        private ulong _word;
    }
}
