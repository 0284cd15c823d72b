using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Kvm;

/// <summary>Issue 5: a deassigned ioeventfd no longer fires; the write exits to userspace again.</summary>
public sealed unsafe class IoEventFdDeassignTests
{
    private const ulong Doorbell = 0xFEC0_0000;

    [Fact]
    public void An_assigned_ioeventfd_swallows_the_write_and_after_deassign_the_write_exits_and_nothing_fires()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        a.mov(rbx, Doorbell);
        for (int i = 0; i < 3; i++) a.mov(__dword_ptr[rbx], i);
        TestGuest.EmitFinish(a);
        guest.Load(a);
        var device = new RecordingDevice();
        var bus = new MmioBus();
        bus.Add(Doorbell, 0x1000, device);
        int efd = Tmds.Linux.LibC.eventfd(0, Tmds.Linux.LibC.EFD_NONBLOCK);
        try
        {
            var registration = new IoEventFdRegistration(Doorbell, 4, efd);
            guest.Vm.AssignIoEventFd(registration);
            var assigned = guest.RunToFinish(bus);
            Assert.Equal(1, assigned.ExitsToUserspace);
            Assert.Equal(3UL, Drain(efd));

            guest.Vm.DeassignIoEventFd(registration);
            var deassigned = guest.RunToFinish(bus);

            Assert.Equal(4, deassigned.ExitsToUserspace);
            Assert.Equal(3, device.Writes.Count);
            Assert.Equal(0UL, Drain(efd));
        }
        finally
        {
            Tmds.Linux.LibC.close(efd);
        }
    }

    private static ulong Drain(int fd)
    {
        ulong value = 0;
        return Tmds.Linux.LibC.read(fd, &value, 8) == 8 ? value : 0;
    }
}
