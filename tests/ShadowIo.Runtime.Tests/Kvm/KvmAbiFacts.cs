using ShadowIo.Kvm;
using ShadowIo.Kvm.Native;

namespace ShadowIo.Runtime.Tests.Kvm;

/// <summary>
/// The ABI facts ShadowIo relies on, two ways: what the C# declarations produce
/// (<see cref="Managed"/>) and what the kernel headers say (<see cref="Expected"/>, hard-coded from
/// include/uapi/linux/kvm.h on x86-64; <see cref="CProgram"/> prints the same names with gcc).
/// </summary>
internal static unsafe class KvmAbiFacts
{
    public static SortedDictionary<string, ulong> Managed()
    {
        var d = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        KvmRegs regs = default;
        var r = (byte*)&regs;
        d["sizeof kvm_regs"] = (ulong)sizeof(KvmRegs);
        d["kvm_regs.rax"] = Off(r, &regs.Rax);
        d["kvm_regs.rdi"] = Off(r, &regs.Rdi);
        d["kvm_regs.r8"] = Off(r, &regs.R8);
        d["kvm_regs.r15"] = Off(r, &regs.R15);
        d["kvm_regs.rip"] = Off(r, &regs.Rip);
        d["kvm_regs.rflags"] = Off(r, &regs.Rflags);

        KvmSegment seg = default;
        var s = (byte*)&seg;
        d["sizeof kvm_segment"] = (ulong)sizeof(KvmSegment);
        d["kvm_segment.base"] = Off(s, &seg.Base);
        d["kvm_segment.limit"] = Off(s, &seg.Limit);
        d["kvm_segment.selector"] = Off(s, &seg.Selector);
        d["kvm_segment.type"] = Off(s, &seg.Type);
        d["kvm_segment.present"] = Off(s, &seg.Present);
        d["kvm_segment.dpl"] = Off(s, &seg.Dpl);
        d["kvm_segment.db"] = Off(s, &seg.Db);
        d["kvm_segment.s"] = Off(s, &seg.S);
        d["kvm_segment.l"] = Off(s, &seg.L);
        d["kvm_segment.g"] = Off(s, &seg.G);
        d["kvm_segment.avl"] = Off(s, &seg.Avl);
        d["kvm_segment.unusable"] = Off(s, &seg.Unusable);
        d["kvm_segment.padding"] = Off(s, &seg.Padding);

        KvmDtable dt = default;
        d["sizeof kvm_dtable"] = (ulong)sizeof(KvmDtable);
        d["kvm_dtable.base"] = Off((byte*)&dt, &dt.Base);
        d["kvm_dtable.limit"] = Off((byte*)&dt, &dt.Limit);

        KvmSregs sr = default;
        var p = (byte*)&sr;
        d["sizeof kvm_sregs"] = (ulong)sizeof(KvmSregs);
        d["kvm_sregs.cs"] = Off(p, &sr.Cs);
        d["kvm_sregs.ds"] = Off(p, &sr.Ds);
        d["kvm_sregs.es"] = Off(p, &sr.Es);
        d["kvm_sregs.fs"] = Off(p, &sr.Fs);
        d["kvm_sregs.gs"] = Off(p, &sr.Gs);
        d["kvm_sregs.ss"] = Off(p, &sr.Ss);
        d["kvm_sregs.tr"] = Off(p, &sr.Tr);
        d["kvm_sregs.ldt"] = Off(p, &sr.Ldt);
        d["kvm_sregs.gdt"] = Off(p, &sr.Gdt);
        d["kvm_sregs.idt"] = Off(p, &sr.Idt);
        d["kvm_sregs.cr0"] = Off(p, &sr.Cr0);
        d["kvm_sregs.cr2"] = Off(p, &sr.Cr2);
        d["kvm_sregs.cr3"] = Off(p, &sr.Cr3);
        d["kvm_sregs.cr4"] = Off(p, &sr.Cr4);
        d["kvm_sregs.cr8"] = Off(p, &sr.Cr8);
        d["kvm_sregs.efer"] = Off(p, &sr.Efer);
        d["kvm_sregs.apic_base"] = Off(p, &sr.ApicBase);
        d["kvm_sregs.interrupt_bitmap"] = Off(p, &sr.Interrupts);

        KvmUserspaceMemoryRegion m = default;
        var mp = (byte*)&m;
        d["sizeof kvm_userspace_memory_region"] = (ulong)sizeof(KvmUserspaceMemoryRegion);
        d["kvm_userspace_memory_region.slot"] = Off(mp, &m.Slot);
        d["kvm_userspace_memory_region.flags"] = Off(mp, &m.Flags);
        d["kvm_userspace_memory_region.guest_phys_addr"] = Off(mp, &m.GuestPhysAddr);
        d["kvm_userspace_memory_region.memory_size"] = Off(mp, &m.MemorySize);
        d["kvm_userspace_memory_region.userspace_addr"] = Off(mp, &m.UserspaceAddr);

        KvmCpuid2 c = default;
        d["sizeof kvm_cpuid2"] = (ulong)sizeof(KvmCpuid2);
        d["kvm_cpuid2.nent"] = Off((byte*)&c, &c.Nent);
        KvmCpuidEntry2 ce = default;
        var cp = (byte*)&ce;
        d["sizeof kvm_cpuid_entry2"] = (ulong)sizeof(KvmCpuidEntry2);
        d["kvm_cpuid_entry2.function"] = Off(cp, &ce.Function);
        d["kvm_cpuid_entry2.index"] = Off(cp, &ce.Index);
        d["kvm_cpuid_entry2.flags"] = Off(cp, &ce.Flags);
        d["kvm_cpuid_entry2.eax"] = Off(cp, &ce.Eax);
        d["kvm_cpuid_entry2.ebx"] = Off(cp, &ce.Ebx);
        d["kvm_cpuid_entry2.ecx"] = Off(cp, &ce.Ecx);
        d["kvm_cpuid_entry2.edx"] = Off(cp, &ce.Edx);
        d["kvm_cpuid_entry2.padding"] = Off(cp, &ce.Padding0);

        KvmIoEventFd io = default;
        var ip = (byte*)&io;
        d["sizeof kvm_ioeventfd"] = (ulong)sizeof(KvmIoEventFd);
        d["kvm_ioeventfd.datamatch"] = Off(ip, &io.DataMatch);
        d["kvm_ioeventfd.addr"] = Off(ip, &io.Addr);
        d["kvm_ioeventfd.len"] = Off(ip, &io.Len);
        d["kvm_ioeventfd.fd"] = Off(ip, &io.Fd);
        d["kvm_ioeventfd.flags"] = Off(ip, &io.Flags);
        d["kvm_ioeventfd.pad"] = Off(ip, &io.Pad);

        KvmIoEventFdPostWrite pw = default;
        var pp = (byte*)&pw;
        d["sizeof kvm_ioeventfd_post_write"] = (ulong)sizeof(KvmIoEventFdPostWrite);
        d["kvm_ioeventfd_post_write.datamatch"] = Off(pp, &pw.DataMatch);
        d["kvm_ioeventfd_post_write.addr"] = Off(pp, &pw.Addr);
        d["kvm_ioeventfd_post_write.len"] = Off(pp, &pw.Len);
        d["kvm_ioeventfd_post_write.fd"] = Off(pp, &pw.Fd);
        d["kvm_ioeventfd_post_write.flags"] = Off(pp, &pw.Flags);
        d["kvm_ioeventfd_post_write.post_addr"] = Off(pp, &pw.PostAddr);
        d["kvm_ioeventfd_post_write.pad"] = Off(pp, &pw.Pad);

        KvmRun run = default;
        var rp = (byte*)&run;
        d["kvm_run.request_interrupt_window"] = Off(rp, &run.RequestInterruptWindow);
        d["kvm_run.immediate_exit"] = Off(rp, &run.ImmediateExit);
        d["kvm_run.exit_reason"] = Off(rp, &run.ExitReason);
        d["kvm_run.ready_for_interrupt_injection"] = Off(rp, &run.ReadyForInterruptInjection);
        d["kvm_run.if_flag"] = Off(rp, &run.IfFlag);
        d["kvm_run.flags"] = Off(rp, &run.Flags);
        d["kvm_run.cr8"] = Off(rp, &run.Cr8);
        d["kvm_run.apic_base"] = Off(rp, &run.ApicBase);
        d["kvm_run.io.direction"] = Off(rp, &run.Io.Direction);
        d["kvm_run.io.size"] = Off(rp, &run.Io.Size);
        d["kvm_run.io.port"] = Off(rp, &run.Io.Port);
        d["kvm_run.io.count"] = Off(rp, &run.Io.Count);
        d["kvm_run.io.data_offset"] = Off(rp, &run.Io.DataOffset);
        d["kvm_run.mmio.phys_addr"] = Off(rp, &run.Mmio.PhysAddr);
        d["kvm_run.mmio.data"] = Off(rp, &run.Mmio.Data);
        d["kvm_run.mmio.len"] = Off(rp, &run.Mmio.Len);
        d["kvm_run.mmio.is_write"] = Off(rp, &run.Mmio.IsWrite);
        d["kvm_run.fail_entry.hardware_entry_failure_reason"] = Off(rp, &run.FailEntry.HardwareEntryFailureReason);
        d["kvm_run.fail_entry.cpu"] = Off(rp, &run.FailEntry.Cpu);
        d["kvm_run.internal.suberror"] = Off(rp, &run.Internal.Suberror);
        d["kvm_run.internal.ndata"] = Off(rp, &run.Internal.Ndata);
        d["kvm_run.internal.data"] = Off(rp, &run.Internal.Data0);
        d["kvm_run.system_event.type"] = Off(rp, &run.SystemEvent.Type);
        d["kvm_run.system_event.ndata"] = Off(rp, &run.SystemEvent.Ndata);
        d["kvm_run.system_event.data"] = Off(rp, &run.SystemEvent.Data0);

        d["KVM_GET_API_VERSION"] = (uint)KvmIoctls.GetApiVersion;
        d["KVM_CREATE_VM"] = (uint)KvmIoctls.CreateVm;
        d["KVM_CHECK_EXTENSION"] = (uint)KvmIoctls.CheckExtension;
        d["KVM_GET_VCPU_MMAP_SIZE"] = (uint)KvmIoctls.GetVcpuMmapSize;
        d["KVM_GET_SUPPORTED_CPUID"] = (uint)KvmIoctls.GetSupportedCpuid;
        d["KVM_CREATE_VCPU"] = (uint)KvmIoctls.CreateVcpu;
        d["KVM_SET_USER_MEMORY_REGION"] = (uint)KvmIoctls.SetUserMemoryRegion;
        d["KVM_SET_TSS_ADDR"] = (uint)KvmIoctls.SetTssAddr;
        d["KVM_IOEVENTFD"] = (uint)KvmIoctls.IoEventFd;
        d["KVM_RUN"] = (uint)KvmIoctls.Run;
        d["KVM_GET_REGS"] = (uint)KvmIoctls.GetRegs;
        d["KVM_SET_REGS"] = (uint)KvmIoctls.SetRegs;
        d["KVM_GET_SREGS"] = (uint)KvmIoctls.GetSregs;
        d["KVM_SET_SREGS"] = (uint)KvmIoctls.SetSregs;
        d["KVM_SET_CPUID2"] = (uint)KvmIoctls.SetCpuid2;

        d["KVM_IOEVENTFD_FLAG_DATAMATCH"] = (uint)KvmIoEventFdFlags.DataMatch;
        d["KVM_IOEVENTFD_FLAG_PIO"] = (uint)KvmIoEventFdFlags.Pio;
        d["KVM_IOEVENTFD_FLAG_DEASSIGN"] = (uint)KvmIoEventFdFlags.Deassign;
        d["KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY"] = (uint)KvmIoEventFdFlags.VirtioCcwNotify;
        d["KVM_IOEVENTFD_FLAG_POST_WRITE"] = (uint)KvmIoEventFdFlags.PostWrite;
        d["KVM_EXIT_IO"] = KvmExitReasons.Io;
        d["KVM_EXIT_HLT"] = KvmExitReasons.Hlt;
        d["KVM_EXIT_MMIO"] = KvmExitReasons.Mmio;
        d["KVM_EXIT_SHUTDOWN"] = KvmExitReasons.Shutdown;
        d["KVM_EXIT_FAIL_ENTRY"] = KvmExitReasons.FailEntry;
        d["KVM_EXIT_INTR"] = KvmExitReasons.Intr;
        d["KVM_EXIT_INTERNAL_ERROR"] = KvmExitReasons.InternalError;
        d["KVM_EXIT_SYSTEM_EVENT"] = KvmExitReasons.SystemEvent;
        d["KVM_CAP_USER_MEMORY"] = (ulong)KvmCapability.UserMemory;
        d["KVM_CAP_IOEVENTFD"] = (ulong)KvmCapability.IoEventFd;
        d["KVM_CAP_IOEVENTFD_NO_LENGTH"] = (ulong)KvmCapability.IoEventFdNoLength;
        d["KVM_CAP_IOEVENTFD_ANY_LENGTH"] = (ulong)KvmCapability.IoEventFdAnyLength;
        d["KVM_CAP_NR_MEMSLOTS"] = (ulong)KvmCapability.NrMemslots;
        d["KVM_CAP_IMMEDIATE_EXIT"] = (ulong)KvmCapability.ImmediateExit;
        return d;
    }

    /// <summary>The same facts as the x86-64 kernel headers give them (and the post-write patch's layout).</summary>
    public static SortedDictionary<string, ulong> Expected() => new(StringComparer.Ordinal)
    {
        ["sizeof kvm_regs"] = 144, ["kvm_regs.rax"] = 0, ["kvm_regs.rdi"] = 40, ["kvm_regs.r8"] = 64,
        ["kvm_regs.r15"] = 120, ["kvm_regs.rip"] = 128, ["kvm_regs.rflags"] = 136,

        ["sizeof kvm_segment"] = 24, ["kvm_segment.base"] = 0, ["kvm_segment.limit"] = 8, ["kvm_segment.selector"] = 12,
        ["kvm_segment.type"] = 14, ["kvm_segment.present"] = 15, ["kvm_segment.dpl"] = 16, ["kvm_segment.db"] = 17,
        ["kvm_segment.s"] = 18, ["kvm_segment.l"] = 19, ["kvm_segment.g"] = 20, ["kvm_segment.avl"] = 21,
        ["kvm_segment.unusable"] = 22, ["kvm_segment.padding"] = 23,

        ["sizeof kvm_dtable"] = 16, ["kvm_dtable.base"] = 0, ["kvm_dtable.limit"] = 8,

        ["sizeof kvm_sregs"] = 312, ["kvm_sregs.cs"] = 0, ["kvm_sregs.ds"] = 24, ["kvm_sregs.es"] = 48,
        ["kvm_sregs.fs"] = 72, ["kvm_sregs.gs"] = 96, ["kvm_sregs.ss"] = 120, ["kvm_sregs.tr"] = 144,
        ["kvm_sregs.ldt"] = 168, ["kvm_sregs.gdt"] = 192, ["kvm_sregs.idt"] = 208, ["kvm_sregs.cr0"] = 224,
        ["kvm_sregs.cr2"] = 232, ["kvm_sregs.cr3"] = 240, ["kvm_sregs.cr4"] = 248, ["kvm_sregs.cr8"] = 256,
        ["kvm_sregs.efer"] = 264, ["kvm_sregs.apic_base"] = 272, ["kvm_sregs.interrupt_bitmap"] = 280,

        ["sizeof kvm_userspace_memory_region"] = 32, ["kvm_userspace_memory_region.slot"] = 0,
        ["kvm_userspace_memory_region.flags"] = 4, ["kvm_userspace_memory_region.guest_phys_addr"] = 8,
        ["kvm_userspace_memory_region.memory_size"] = 16, ["kvm_userspace_memory_region.userspace_addr"] = 24,

        ["sizeof kvm_cpuid2"] = 8, ["kvm_cpuid2.nent"] = 0,
        ["sizeof kvm_cpuid_entry2"] = 40, ["kvm_cpuid_entry2.function"] = 0, ["kvm_cpuid_entry2.index"] = 4,
        ["kvm_cpuid_entry2.flags"] = 8, ["kvm_cpuid_entry2.eax"] = 12, ["kvm_cpuid_entry2.ebx"] = 16,
        ["kvm_cpuid_entry2.ecx"] = 20, ["kvm_cpuid_entry2.edx"] = 24, ["kvm_cpuid_entry2.padding"] = 28,

        ["sizeof kvm_ioeventfd"] = 64, ["kvm_ioeventfd.datamatch"] = 0, ["kvm_ioeventfd.addr"] = 8,
        ["kvm_ioeventfd.len"] = 16, ["kvm_ioeventfd.fd"] = 20, ["kvm_ioeventfd.flags"] = 24, ["kvm_ioeventfd.pad"] = 28,

        // Revised post-write patch: post_addr right after flags, aligned to 8 → 32; pad[24]; still 64 bytes.
        ["sizeof kvm_ioeventfd_post_write"] = 64, ["kvm_ioeventfd_post_write.datamatch"] = 0,
        ["kvm_ioeventfd_post_write.addr"] = 8, ["kvm_ioeventfd_post_write.len"] = 16, ["kvm_ioeventfd_post_write.fd"] = 20,
        ["kvm_ioeventfd_post_write.flags"] = 24, ["kvm_ioeventfd_post_write.post_addr"] = 32, ["kvm_ioeventfd_post_write.pad"] = 40,

        ["kvm_run.request_interrupt_window"] = 0, ["kvm_run.immediate_exit"] = 1, ["kvm_run.exit_reason"] = 8,
        ["kvm_run.ready_for_interrupt_injection"] = 12, ["kvm_run.if_flag"] = 13, ["kvm_run.flags"] = 14,
        ["kvm_run.cr8"] = 16, ["kvm_run.apic_base"] = 24,
        ["kvm_run.io.direction"] = 32, ["kvm_run.io.size"] = 33, ["kvm_run.io.port"] = 34, ["kvm_run.io.count"] = 36,
        ["kvm_run.io.data_offset"] = 40,
        ["kvm_run.mmio.phys_addr"] = 32, ["kvm_run.mmio.data"] = 40, ["kvm_run.mmio.len"] = 48, ["kvm_run.mmio.is_write"] = 52,
        ["kvm_run.fail_entry.hardware_entry_failure_reason"] = 32, ["kvm_run.fail_entry.cpu"] = 40,
        ["kvm_run.internal.suberror"] = 32, ["kvm_run.internal.ndata"] = 36, ["kvm_run.internal.data"] = 40,
        ["kvm_run.system_event.type"] = 32, ["kvm_run.system_event.ndata"] = 36, ["kvm_run.system_event.data"] = 40,

        ["KVM_GET_API_VERSION"] = 0xAE00, ["KVM_CREATE_VM"] = 0xAE01, ["KVM_CHECK_EXTENSION"] = 0xAE03,
        ["KVM_GET_VCPU_MMAP_SIZE"] = 0xAE04, ["KVM_GET_SUPPORTED_CPUID"] = 0xC008AE05, ["KVM_CREATE_VCPU"] = 0xAE41,
        ["KVM_SET_USER_MEMORY_REGION"] = 0x4020AE46, ["KVM_SET_TSS_ADDR"] = 0xAE47, ["KVM_IOEVENTFD"] = 0x4040AE79,
        ["KVM_RUN"] = 0xAE80, ["KVM_GET_REGS"] = 0x8090AE81, ["KVM_SET_REGS"] = 0x4090AE82,
        ["KVM_GET_SREGS"] = 0x8138AE83, ["KVM_SET_SREGS"] = 0x4138AE84, ["KVM_SET_CPUID2"] = 0x4008AE90,

        ["KVM_IOEVENTFD_FLAG_DATAMATCH"] = 1, ["KVM_IOEVENTFD_FLAG_PIO"] = 2, ["KVM_IOEVENTFD_FLAG_DEASSIGN"] = 4,
        ["KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY"] = 8, ["KVM_IOEVENTFD_FLAG_POST_WRITE"] = 32,
        ["KVM_EXIT_IO"] = 2, ["KVM_EXIT_HLT"] = 5, ["KVM_EXIT_MMIO"] = 6, ["KVM_EXIT_SHUTDOWN"] = 8,
        ["KVM_EXIT_FAIL_ENTRY"] = 9, ["KVM_EXIT_INTR"] = 10, ["KVM_EXIT_INTERNAL_ERROR"] = 17, ["KVM_EXIT_SYSTEM_EVENT"] = 24,
        ["KVM_CAP_USER_MEMORY"] = 3, ["KVM_CAP_IOEVENTFD"] = 36, ["KVM_CAP_IOEVENTFD_NO_LENGTH"] = 100,
        ["KVM_CAP_IOEVENTFD_ANY_LENGTH"] = 122, ["KVM_CAP_NR_MEMSLOTS"] = 10, ["KVM_CAP_IMMEDIATE_EXIT"] = 136,
    };

    /// <summary>A C program printing "name value" for every fact, from the system's &lt;linux/kvm.h&gt;.</summary>
    public const string CProgram = """
        #include <stdio.h>
        #include <stddef.h>
        #include <linux/kvm.h>
        /* The revised post-write patch's layout (not in mainline headers). */
        struct kvm_ioeventfd_post_write {
            __u64 datamatch; __u64 addr; __u32 len; __s32 fd; __u32 flags;
            __u64 post_addr; __u8 pad[24];
        };
        #define KVM_IOEVENTFD_FLAG_POST_WRITE (1 << (kvm_ioeventfd_flag_nr_fast_mmio + 1))
        #define SZ(t) printf("sizeof %s %zu\n", #t, sizeof(struct t))
        #define OF(t, f) printf("%s.%s %zu\n", #t, #f, offsetof(struct t, f))
        #define N(x) printf("%s %lu\n", #x, (unsigned long)(unsigned int)(x))
        int main(void) {
            SZ(kvm_regs); OF(kvm_regs, rax); OF(kvm_regs, rdi); OF(kvm_regs, r8); OF(kvm_regs, r15); OF(kvm_regs, rip); OF(kvm_regs, rflags);
            SZ(kvm_segment); OF(kvm_segment, base); OF(kvm_segment, limit); OF(kvm_segment, selector); OF(kvm_segment, type);
            OF(kvm_segment, present); OF(kvm_segment, dpl); OF(kvm_segment, db); OF(kvm_segment, s); OF(kvm_segment, l);
            OF(kvm_segment, g); OF(kvm_segment, avl); OF(kvm_segment, unusable); OF(kvm_segment, padding);
            SZ(kvm_dtable); OF(kvm_dtable, base); OF(kvm_dtable, limit);
            SZ(kvm_sregs); OF(kvm_sregs, cs); OF(kvm_sregs, ds); OF(kvm_sregs, es); OF(kvm_sregs, fs); OF(kvm_sregs, gs);
            OF(kvm_sregs, ss); OF(kvm_sregs, tr); OF(kvm_sregs, ldt); OF(kvm_sregs, gdt); OF(kvm_sregs, idt);
            OF(kvm_sregs, cr0); OF(kvm_sregs, cr2); OF(kvm_sregs, cr3); OF(kvm_sregs, cr4); OF(kvm_sregs, cr8);
            OF(kvm_sregs, efer); OF(kvm_sregs, apic_base); OF(kvm_sregs, interrupt_bitmap);
            SZ(kvm_userspace_memory_region); OF(kvm_userspace_memory_region, slot); OF(kvm_userspace_memory_region, flags);
            OF(kvm_userspace_memory_region, guest_phys_addr); OF(kvm_userspace_memory_region, memory_size);
            OF(kvm_userspace_memory_region, userspace_addr);
            SZ(kvm_cpuid2); OF(kvm_cpuid2, nent);
            SZ(kvm_cpuid_entry2); OF(kvm_cpuid_entry2, function); OF(kvm_cpuid_entry2, index); OF(kvm_cpuid_entry2, flags);
            OF(kvm_cpuid_entry2, eax); OF(kvm_cpuid_entry2, ebx); OF(kvm_cpuid_entry2, ecx); OF(kvm_cpuid_entry2, edx);
            OF(kvm_cpuid_entry2, padding);
            SZ(kvm_ioeventfd); OF(kvm_ioeventfd, datamatch); OF(kvm_ioeventfd, addr); OF(kvm_ioeventfd, len);
            OF(kvm_ioeventfd, fd); OF(kvm_ioeventfd, flags); OF(kvm_ioeventfd, pad);
            SZ(kvm_ioeventfd_post_write); OF(kvm_ioeventfd_post_write, datamatch); OF(kvm_ioeventfd_post_write, addr);
            OF(kvm_ioeventfd_post_write, len); OF(kvm_ioeventfd_post_write, fd); OF(kvm_ioeventfd_post_write, flags);
            OF(kvm_ioeventfd_post_write, post_addr); OF(kvm_ioeventfd_post_write, pad);
            OF(kvm_run, request_interrupt_window); OF(kvm_run, immediate_exit); OF(kvm_run, exit_reason);
            OF(kvm_run, ready_for_interrupt_injection); OF(kvm_run, if_flag); OF(kvm_run, flags); OF(kvm_run, cr8);
            OF(kvm_run, apic_base); OF(kvm_run, io.direction); OF(kvm_run, io.size); OF(kvm_run, io.port);
            OF(kvm_run, io.count); OF(kvm_run, io.data_offset); OF(kvm_run, mmio.phys_addr); OF(kvm_run, mmio.data);
            OF(kvm_run, mmio.len); OF(kvm_run, mmio.is_write); OF(kvm_run, fail_entry.hardware_entry_failure_reason);
            OF(kvm_run, fail_entry.cpu); OF(kvm_run, internal.suberror); OF(kvm_run, internal.ndata); OF(kvm_run, internal.data);
            OF(kvm_run, system_event.type); OF(kvm_run, system_event.ndata); OF(kvm_run, system_event.data);
            N(KVM_GET_API_VERSION); N(KVM_CREATE_VM); N(KVM_CHECK_EXTENSION); N(KVM_GET_VCPU_MMAP_SIZE);
            N(KVM_GET_SUPPORTED_CPUID); N(KVM_CREATE_VCPU); N(KVM_SET_USER_MEMORY_REGION); N(KVM_SET_TSS_ADDR);
            N(KVM_IOEVENTFD); N(KVM_RUN); N(KVM_GET_REGS); N(KVM_SET_REGS); N(KVM_GET_SREGS); N(KVM_SET_SREGS);
            N(KVM_SET_CPUID2);
            N(KVM_IOEVENTFD_FLAG_DATAMATCH); N(KVM_IOEVENTFD_FLAG_PIO); N(KVM_IOEVENTFD_FLAG_DEASSIGN);
            N(KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY); N(KVM_IOEVENTFD_FLAG_POST_WRITE);
            N(KVM_EXIT_IO); N(KVM_EXIT_HLT); N(KVM_EXIT_MMIO); N(KVM_EXIT_SHUTDOWN); N(KVM_EXIT_FAIL_ENTRY);
            N(KVM_EXIT_INTR); N(KVM_EXIT_INTERNAL_ERROR); N(KVM_EXIT_SYSTEM_EVENT);
            N(KVM_CAP_USER_MEMORY); N(KVM_CAP_IOEVENTFD); N(KVM_CAP_IOEVENTFD_NO_LENGTH); N(KVM_CAP_IOEVENTFD_ANY_LENGTH);
            N(KVM_CAP_NR_MEMSLOTS); N(KVM_CAP_IMMEDIATE_EXIT);
            return 0;
        }
        """;

    private static ulong Off(byte* start, void* field) => (ulong)((byte*)field - start);
}
