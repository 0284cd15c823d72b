using Xunit;
using ShadowIo.Linux.Tests.Qemu.Support;
using static Tmds.Linux.LibC;

namespace ShadowIo.Linux.Tests.Qemu;

/// <summary>INTx over the resampling irqfd pair QEMU hands over with SET_IRQFD.</summary>
public sealed class ProxyInterruptTests
{
    [Fact]
    public unsafe void Raising_the_line_signals_intr_and_a_resample_while_high_signals_it_again()
    {
        using var served = new ServedDevice();
        int intr = eventfd(0, EFD_NONBLOCK);
        int resample = eventfd(0, EFD_NONBLOCK);
        try
        {
            served.Proxy.SetIrqfd(intr, resample);
            served.Proxy.ConfigRead(0, 2);   // SET_IRQFD has no reply; this one orders it
            Assert.True(served.Server.Interrupt.IsConnected);

            served.Server.Interrupt.SetLevel(true);
            Assert.True(FakeQemuProxy.WaitReadable(intr, TimeSpan.FromSeconds(5)));
            Assert.Equal(1ul, ReadCounter(intr));
            Assert.Equal(0x08u, served.Proxy.ConfigRead(0x06, 2) & 0x08);   // Interrupt Status

            ulong one = 1;
            write(resample, &one, 8);                                      // guest EOI while still high
            Assert.True(FakeQemuProxy.WaitReadable(intr, TimeSpan.FromSeconds(5)));
            Assert.Equal(1ul, ReadCounter(intr));

            served.Server.Interrupt.SetLevel(false);
            write(resample, &one, 8);
            served.Proxy.ConfigRead(0, 2);
            Assert.False(FakeQemuProxy.WaitReadable(intr, TimeSpan.FromMilliseconds(200)));
            Assert.Equal(0u, served.Proxy.ConfigRead(0x06, 2) & 0x08);
        }
        finally
        {
            close(intr);
            close(resample);
        }
    }

    [Fact]
    public void Interrupt_disable_in_the_command_register_masks_the_line()
    {
        using var served = new ServedDevice();
        int intr = eventfd(0, EFD_NONBLOCK);
        int resample = eventfd(0, EFD_NONBLOCK);
        try
        {
            served.Proxy.SetIrqfd(intr, resample);
            served.Proxy.ConfigWrite(0x04, 0x0406, 2);
            served.Server.Interrupt.SetLevel(true);
            Assert.False(FakeQemuProxy.WaitReadable(intr, TimeSpan.FromMilliseconds(200)));
            served.Proxy.ConfigWrite(0x04, 0x0006, 2);                     // unmask: pending level fires
            Assert.True(FakeQemuProxy.WaitReadable(intr, TimeSpan.FromSeconds(5)));
        }
        finally
        {
            close(intr);
            close(resample);
        }
    }

    private static unsafe ulong ReadCounter(int fd)
    {
        ulong value = 0;
        read(fd, &value, 8);
        return value;
    }
}
