using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary>
/// <c>struct kvm_sregs</c> (x86): segments, descriptor tables, control registers and EFER as
/// <see cref="KvmVcpu.GetSpecialRegisters"/> reads and <see cref="KvmVcpu.SetSpecialRegisters"/>
/// writes them; 312 bytes. Read, modify, write back: the kernel checks the combination at the next entry.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmSregs
{
    /// <summary>Code segment; its DPL is the current privilege level.</summary>
    public KvmSegment Cs;
    /// <summary>Data segment DS.</summary>
    public KvmSegment Ds;
    /// <summary>Data segment ES.</summary>
    public KvmSegment Es;
    /// <summary>FS (its base is the FS base MSR in 64-bit mode).</summary>
    public KvmSegment Fs;
    /// <summary>GS (its base is the GS base MSR in 64-bit mode).</summary>
    public KvmSegment Gs;
    /// <summary>Stack segment.</summary>
    public KvmSegment Ss;
    /// <summary>Task register: VM entry requires a usable, present, busy TSS.</summary>
    public KvmSegment Tr;
    /// <summary>Local descriptor table register.</summary>
    public KvmSegment Ldt;
    /// <summary>GDTR.</summary>
    public KvmDtable Gdt;
    /// <summary>IDTR.</summary>
    public KvmDtable Idt;
    /// <summary>CR0: PE (bit 0), PG (bit 31) and the other mode bits.</summary>
    public ulong Cr0;
    /// <summary>CR2: the last page-fault address.</summary>
    public ulong Cr2;
    /// <summary>CR3: the physical address of the top-level page table.</summary>
    public ulong Cr3;
    /// <summary>CR4: PAE (bit 5) and the other extension bits.</summary>
    public ulong Cr4;
    /// <summary>CR8: the task-priority register.</summary>
    public ulong Cr8;
    /// <summary>IA32_EFER: LME (bit 8) and LMA (bit 10) for long mode.</summary>
    public ulong Efer;
    /// <summary>IA32_APIC_BASE MSR.</summary>
    public ulong ApicBase;
    /// <summary><c>interrupt_bitmap[(KVM_NR_INTERRUPTS + 63) / 64]</c>: 256 interrupts, four words; the pending external interrupt.</summary>
    public InterruptBitmap Interrupts;

    /// <summary>Four 64-bit words, one bit per interrupt vector 0-255.</summary>
    [InlineArray(4)]
    public struct InterruptBitmap
    {
        private ulong _word;
    }
}
