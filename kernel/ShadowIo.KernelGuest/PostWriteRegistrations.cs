using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;
using static Tmds.Linux.LibC;

namespace ShadowIo.KernelGuest;

/// <summary>
/// The post-write ioeventfd at the KVM level (ShadowIo.Kvm): deassign must name the same
/// post_addr; after deassign the write exits to userspace again; bad configurations are refused
/// at assign time and reported by ShadowIo with the reason.
/// </summary>
internal sealed unsafe class PostWriteRegistrations(Report report)
{
    private const ulong DoorbellGpa = ModeRun.BlockGpa + 0x1000; // SQ 0 tail of DoorbellTestBlock

    public void DeassignMatchesPostAddress()
    {
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        a.mov(rbx, DoorbellGpa);
        a.mov(rax, 0xFFFF_FFFFUL);
        a.and(rax, rdi); // value from the first run argument
        a.mov(__dword_ptr[rbx], eax);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var page = MemoryMapping.CreateAnonymous(4096);
        int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        try
        {
            var post = (nint)page.Pointer;
            var registration = new IoEventFdRegistration(DoorbellGpa, 4, efd) { PostAddress = post };
            guest.Vm.AssignIoEventFd(registration);

            var device = new DoorbellTestBlock();
            var bus = new MmioBus();
            bus.Add(ModeRun.BlockGpa, DoorbellTestBlock.BlockSize, device, null);

            var first = guest.RunToFinish(bus, 0x1234);
            uint posted = *(uint*)page.Pointer;
            ulong count = ReadCount(efd);
            report.Check("post-write.delivers", posted == 0x1234 && count == 1 && first.ExitsToUserspace == 1 && device.Dispatched.Count == 0,
                $"post_addr holds 0x{posted:x}, eventfd count {count}, exits {first.ExitsToUserspace} (the finish only)");

            report.Check("deassign.other-post-addr-refused", Refused(() => guest.Vm.DeassignIoEventFd(registration with { PostAddress = post + 4 }), out var e1),
                e1);
            report.Check("deassign.without-post-write-refused", Refused(() => guest.Vm.DeassignIoEventFd(registration with { PostAddress = 0 }), out var e2),
                e2);
            guest.Vm.DeassignIoEventFd(registration);
            report.Check("deassign.same-post-addr", true, "deassigned with the same addr/len/fd/post_addr");

            var second = guest.RunToFinish(bus, 0x5678);
            posted = *(uint*)page.Pointer;
            count = ReadCount(efd);
            report.Check("deassign.write-exits-again", posted == 0x1234 && count == 0 && second.ExitsToUserspace == 2
                && device.Dispatched.SequenceEqual([(DoorbellTestBlock.DoorbellIndex.SqTail, 0x5678UL)]),
                $"post_addr still 0x{posted:x}, eventfd count {count}, exits {second.ExitsToUserspace}, dispatched [{string.Join(",", device.Dispatched)}]");

            guest.Vm.AssignIoEventFd(registration);
            report.Check("assign.duplicate-refused", Refused(() => guest.Vm.AssignIoEventFd(registration with { PostAddress = post + 8 }), out var e3), e3);
            guest.Vm.DeassignIoEventFd(registration);
        }
        finally
        {
            close(efd);
        }
    }

    /// <summary>Each bad post-write configuration must fail at assign time, with a message that says why.</summary>
    public void BadConfigurationsAreRefused()
    {
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var page = MemoryMapping.CreateAnonymous(4096);
        int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        void* gone = mmap(null, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(gone, 4096);
        void* readOnly = mmap(null, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        try
        {
            var good = new IoEventFdRegistration(DoorbellGpa, 4, efd) { PostAddress = (nint)page.Pointer };
            (string Case, IoEventFdRegistration Registration)[] bad =
            [
                ("unaligned-post-addr", good with { PostAddress = (nint)page.Pointer + 2 }),
                ("unmapped-post-addr", good with { PostAddress = (nint)gone }),
                ("read-only-post-addr", good with { PostAddress = (nint)readOnly }),
                ("kernel-post-addr", good with { PostAddress = unchecked((nint)0xFFFF_FFFF_8100_0000UL) }),
                ("length-0-with-post-write", new IoEventFdRegistration(DoorbellGpa, 0, efd) { PostAddress = (nint)page.Pointer }),
            ];
            foreach (var (name, registration) in bad)
            {
                try
                {
                    vm.AssignIoEventFd(registration);
                    vm.TryDeassignIoEventFd(registration);
                    report.Check($"refused.{name}", false, $"the kernel accepted {registration}");
                }
                catch (KvmException error)
                {
                    report.Line($"REFUSED {name} errno={error.Errno} error={error.Error} message={error.Message}");
                    bool clear = error.Errno == EINVAL && error.Error != KvmError.Unsupported
                        && error.Message.Contains("post_addr", StringComparison.Ordinal);
                    report.Check($"refused.{name}", clear, $"{error.Error} errno {error.Errno}");
                }
            }
            // A refusal leaves nothing behind: the good configuration still assigns and deassigns.
            vm.AssignIoEventFd(good);
            vm.DeassignIoEventFd(good);
            report.Check("refused.leaves-nothing-registered", true, "the valid configuration assigns after the refusals");
        }
        finally
        {
            munmap(readOnly, 4096);
            close(efd);
        }
    }

    private static bool Refused(Action action, out string detail)
    {
        try
        {
            action();
            detail = "accepted";
            return false;
        }
        catch (KvmException error)
        {
            detail = $"{error.Error} errno {error.Errno}";
            return true;
        }
    }

    private static ulong ReadCount(int efd)
    {
        ulong value = 0;
        return read(efd, &value, 8) == 8 ? value : 0;
    }
}
