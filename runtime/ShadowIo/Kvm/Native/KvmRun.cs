using System.Runtime.InteropServices;

namespace ShadowIo.Kvm.Native;

/// <summary>
/// The parts of the mmapped <c>struct kvm_run</c> ShadowIo reads: the fixed header and, at offset
/// 32, the exit union's <c>io</c>, <c>mmio</c>, <c>fail_entry</c>, <c>internal</c> and
/// <c>system_event</c> members. The real structure is larger; only a pointer into the vCPU
/// mapping is ever used, never a copy.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32 + 256)]
internal struct KvmRun
{
    [FieldOffset(0)] public byte RequestInterruptWindow;
    /// <summary>When set, KVM_RUN returns EINTR at once (a way to kick a vCPU out).</summary>
    [FieldOffset(1)] public byte ImmediateExit;
    [FieldOffset(8)] public uint ExitReason;
    [FieldOffset(12)] public byte ReadyForInterruptInjection;
    [FieldOffset(13)] public byte IfFlag;
    [FieldOffset(14)] public ushort Flags;
    [FieldOffset(16)] public ulong Cr8;
    [FieldOffset(24)] public ulong ApicBase;

    /// <summary>Start of the exit union.</summary>
    public const int ExitUnionOffset = 32;

    [FieldOffset(ExitUnionOffset)] public KvmRunIo Io;
    [FieldOffset(ExitUnionOffset)] public KvmRunMmio Mmio;
    [FieldOffset(ExitUnionOffset)] public KvmRunFailEntry FailEntry;
    [FieldOffset(ExitUnionOffset)] public KvmRunInternal Internal;
    [FieldOffset(ExitUnionOffset)] public KvmRunSystemEvent SystemEvent;
}

/// <summary><c>kvm_run.io</c> (KVM_EXIT_IO); the data lives at <c>(byte*)run + DataOffset</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRunIo
{
    /// <summary>0 = in (<c>KVM_EXIT_IO_IN</c>), 1 = out.</summary>
    public byte Direction;
    public byte Size;
    public ushort Port;
    public uint Count;
    public ulong DataOffset;
}

/// <summary><c>kvm_run.mmio</c> (KVM_EXIT_MMIO): for a read, userspace fills <c>data</c> before the next KVM_RUN.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRunMmio
{
    public ulong PhysAddr;
    public ulong Data;
    public uint Len;
    public byte IsWrite;
}

/// <summary><c>kvm_run.fail_entry</c> (KVM_EXIT_FAIL_ENTRY).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRunFailEntry
{
    public ulong HardwareEntryFailureReason;
    public uint Cpu;
}

/// <summary><c>kvm_run.internal</c> (KVM_EXIT_INTERNAL_ERROR): suberror, then ndata words of detail.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRunInternal
{
    public uint Suberror;
    public uint Ndata;
    public ulong Data0;
}

/// <summary><c>kvm_run.system_event</c> (KVM_EXIT_SYSTEM_EVENT).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KvmRunSystemEvent
{
    public uint Type;
    public uint Ndata;
    public ulong Data0;
}
