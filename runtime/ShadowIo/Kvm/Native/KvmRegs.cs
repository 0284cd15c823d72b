using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary><c>struct kvm_regs</c> (x86): the general-purpose registers, RIP and RFLAGS; 144 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmRegs
{
    public ulong Rax, Rbx, Rcx, Rdx;
    public ulong Rsi, Rdi, Rsp, Rbp;
    public ulong R8, R9, R10, R11;
    public ulong R12, R13, R14, R15;
    public ulong Rip, Rflags;
}
