using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary>
/// <c>struct kvm_regs</c> (x86-64): the general-purpose registers, RIP and RFLAGS as
/// <see cref="KvmVcpu.GetRegisters"/> reads and <see cref="KvmVcpu.SetRegisters"/> writes them;
/// 144 bytes. A copy: changing a field changes the vCPU only when set back.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmRegs
{
    /// <summary>RAX: return value and accumulator.</summary>
    public ulong Rax;
    /// <summary>RBX (callee-saved in the System V ABI).</summary>
    public ulong Rbx;
    /// <summary>RCX: fourth System V argument.</summary>
    public ulong Rcx;
    /// <summary>RDX: third System V argument.</summary>
    public ulong Rdx;
    /// <summary>RSI: second System V argument.</summary>
    public ulong Rsi;
    /// <summary>RDI: first System V argument.</summary>
    public ulong Rdi;
    /// <summary>RSP: the stack pointer.</summary>
    public ulong Rsp;
    /// <summary>RBP: the frame pointer.</summary>
    public ulong Rbp;
    /// <summary>R8: fifth System V argument.</summary>
    public ulong R8;
    /// <summary>R9: sixth System V argument.</summary>
    public ulong R9;
    /// <summary>R10.</summary>
    public ulong R10;
    /// <summary>R11.</summary>
    public ulong R11;
    /// <summary>R12 (callee-saved).</summary>
    public ulong R12;
    /// <summary>R13 (callee-saved).</summary>
    public ulong R13;
    /// <summary>R14 (callee-saved).</summary>
    public ulong R14;
    /// <summary>R15 (callee-saved).</summary>
    public ulong R15;
    /// <summary>RIP: the guest-virtual address of the next instruction.</summary>
    public ulong Rip;
    /// <summary>RFLAGS; bit 1 always reads as 1, IOPL is bits 12-13.</summary>
    public ulong Rflags;
}
