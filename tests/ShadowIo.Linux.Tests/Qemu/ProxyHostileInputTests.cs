using Xunit;
using ShadowIo.Linux.Tests.Qemu.Support;
using ShadowIo.Qemu.Protocol;
using static Tmds.Linux.LibC;

namespace ShadowIo.Linux.Tests.Qemu;

/// <summary>
/// Whatever arrives on the link — much of it steered by the guest — the server answers
/// correctly or drops it, never crashes, never leaks the fds it was sent.
/// </summary>
[Collection(FdAccountingCollection.Name)]
public sealed class ProxyHostileInputTests
{
    [Fact]
    public void Malformed_synchronous_requests_get_all_ones_and_the_link_stays_usable()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        var proxy = served.Proxy;
        Assert.Equal(uint.MaxValue, proxy.ConfigRead(0xfe, 4));                 // crosses the end of config space
        Assert.Equal(uint.MaxValue, proxy.ConfigRead(0x10, 3));                 // bad length
        Assert.Equal(ulong.MaxValue, proxy.ConfigWrite(0x4000_0000, 1, 4));
        Assert.Equal(ulong.MaxValue, proxy.BarRead(ServedDevice.Bar0Base, 3));    // not a power of two
        Assert.Equal(ulong.MaxValue, proxy.BarWrite(ServedDevice.Bar0Base, 1, 16));
        Assert.Equal(ulong.MaxValue, proxy.Request(MpqemuCommand.PciConfigRead, new byte[5]));  // short payload
        Assert.Equal(ulong.MaxValue, proxy.Request(MpqemuCommand.BarRead, new byte[MpqemuWire.BarAccessSize + 8]));
        Assert.Equal(0x1b36u, proxy.ConfigRead(0, 2));
        Assert.True(served.Server.Statistics.Rejected >= 7);
    }

    [Fact]
    public void Unknown_commands_and_stray_fds_are_dropped_without_a_reply()
    {
        using var served = new ServedDevice();
        // A named memfd: every copy the server receives shows up under this name in /proc/self/fd.
        using var probe = MemoryMapping.CreateMemfd("stray-fd-probe", 4096);
        int stray = probe.Fd;
        served.Proxy.Channel.SendRaw(99, 4, [1, 2, 3, 4], [stray]);
        served.Proxy.Channel.SendRaw(-5, 0, [], []);
        served.Proxy.Channel.SendRaw((int)MpqemuCommand.Ret, 8, new byte[8], []);
        served.Proxy.SyncSysmem([], []);                                         // no regions: an empty map
        served.Proxy.Channel.SendRaw((int)MpqemuCommand.SetIrqfd, 0, [], [stray]); // one fd instead of two
        served.Proxy.Channel.SendRaw((int)MpqemuCommand.BarRead, MpqemuWire.BarAccessSize, new byte[MpqemuWire.BarAccessSize], [stray, stray]);
        Assert.Equal(ulong.MaxValue, served.Proxy.AwaitReturn());                // the BAR read's, not a stray reply
        Assert.Equal(0x1b36u, served.Proxy.ConfigRead(0, 2));
        Assert.True(1 == OpenDescriptors.Count("stray-fd-probe"), string.Join("\n", served.Log));   // only our own
        Assert.False(served.Server.Interrupt.IsConnected);
    }

    /// <summary>
    /// SET_IRQFD carrying memfds instead of eventfds: a memfd as the resample fd polls readable
    /// forever, so accepting it would spin the server loop. It is ignored, and both fds closed.
    /// </summary>
    [Fact]
    public void Set_irqfd_with_fds_that_are_not_eventfds_is_ignored_and_the_fds_closed()
    {
        using var served = new ServedDevice();
        using var probe = MemoryMapping.CreateMemfd("irqfd-probe", 4096);
        int eventFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        try
        {
            served.Proxy.SetIrqfd(probe.Fd, probe.Fd);
            served.Proxy.SetIrqfd(eventFd, probe.Fd);
            Assert.Equal(0x1b36u, served.Proxy.ConfigRead(0, 2));   // the link still answers, in order
            Assert.False(served.Server.Interrupt.IsConnected, string.Join("\n", served.Log));
            Assert.Equal(2, served.Server.Statistics.Rejected);
            Assert.True(1 == OpenDescriptors.Count("irqfd-probe"), string.Join("\n", served.Log));   // only our own
        }
        finally
        {
            close(eventFd);
        }
    }

    [Fact]
    public async Task An_oversized_header_closes_the_link()
    {
        using var served = new ServedDevice();
        served.Proxy.Channel.SendRaw((int)MpqemuCommand.BarWrite, 4096, [], []);
        await served.Running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.NotNull(served.Server.EndReason);
        Assert.True(served.Proxy.WaitForClose(TimeSpan.FromSeconds(5)) || served.Running.IsCompleted);
    }

    [Fact]
    public void Random_messages_never_crash_the_server()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        var random = new Random(7);
        var payload = new byte[MpqemuWire.MaxPayloadSize];
        for (int i = 0; i < 2000; i++)
        {
            int command = random.Next(-1, 9);
            if (command is 0 or 6) continue;             // no reply expected; covered above
            int size = random.Next(4) switch
            {
                0 => MpqemuWire.ConfigAccessSize,
                1 => MpqemuWire.BarAccessSize,
                2 => 0,
                _ => random.Next(MpqemuWire.MaxPayloadSize + 1),
            };
            random.NextBytes(payload.AsSpan(0, size));
            if (command == 4 || command == 5)
            {
                // Aim half of the BAR accesses inside BAR0 so the device's dispatch is fuzzed too.
                if (random.Next(2) == 0 && size >= 8) BitConverter.TryWriteBytes(payload.AsSpan(0, 8), ServedDevice.Bar0Base + (ulong)random.Next(0x4000));
            }
            bool expectsReply = command is 2 or 3 or 4 or 5 or 7;
            served.Proxy.Channel.SendRaw(command, (ulong)size, payload.AsSpan(0, size), []);
            if (expectsReply) served.Proxy.AwaitReturn();
        }
        Assert.False(served.Running.IsCompleted);
        Assert.Equal(0x1b36u, served.Proxy.ConfigRead(0, 2) & 0xffff);
    }

    [Fact]
    public void A_doorbell_table_whose_shadow_slot_is_outside_the_shadow_page_is_refused_when_bound()
    {
        // Otherwise the first guest write to that doorbell would throw inside the server loop.
        var table = new DoorbellTable("bad block", 0x1000, 8,
        [
            new DoorbellEntry("Tail", 0, 0x100, 4, DoorbellKind.Value, false, 0, 4096),
        ]);
        Assert.Throws<ArgumentException>(() => DoorbellSet.Create(table));
        var oddWidth = new DoorbellTable("bad block", 0x1000, 8,
        [
            new DoorbellEntry("Kick", 0, 0x100, 3, DoorbellKind.Notify, false, 0, -1),
        ]);
        Assert.Throws<ArgumentException>(() => DoorbellSet.Create(oddWidth));
    }
}
