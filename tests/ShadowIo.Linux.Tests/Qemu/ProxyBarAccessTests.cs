using Xunit;
using ShadowIo.Linux.Tests.Qemu.Support;

namespace ShadowIo.Linux.Tests.Qemu;

/// <summary>BAR accesses arrive with absolute addresses; the server routes them by the BAR base it tracked.</summary>
public sealed class ProxyBarAccessTests
{
    [Fact]
    public void Writes_and_reads_inside_bar0_reach_the_device_at_block_offsets()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        Assert.Equal(0ul, served.Proxy.BarWrite(ServedDevice.Bar0Base + 0x14, 0x0046_0001, 4));
        Assert.Equal(0x0046_0001ul, served.Proxy.BarRead(ServedDevice.Bar0Base + 0x14, 4));
        Assert.Equal(0xA5A5ul ^ 0x1c, served.Proxy.BarRead(ServedDevice.Bar0Base + 0x1c, 4));
        Assert.Contains((0x14ul, 4, 0x0046_0001ul), served.Device.Writes);
    }

    [Fact]
    public void Moving_the_bar_moves_the_routing()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        served.Proxy.ConfigWrite(0x10, 0xc000_0000, 4);
        served.Proxy.BarWrite(0xc000_0020, 7, 4);
        Assert.Equal(7ul, served.Device.Registers[0x20]);
        Assert.Equal(ulong.MaxValue, served.Proxy.BarRead(ServedDevice.Bar0Base + 0x20, 4));
    }

    [Fact]
    public void Access_outside_every_bar_or_in_the_wrong_space_reads_all_ones_and_writes_nothing()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        Assert.Equal(ulong.MaxValue, served.Proxy.BarRead(ServedDevice.Bar0Base + ServedDevice.Bar0Size, 4));
        Assert.Equal(ulong.MaxValue, served.Proxy.BarRead(ServedDevice.Bar0Base + ServedDevice.Bar0Size - 2, 4)); // straddles the end
        Assert.Equal(ulong.MaxValue, served.Proxy.BarWrite(ServedDevice.Bar0Base, 1, 4, memory: false));
        Assert.Empty(served.Device.Writes);
        Assert.Equal(3L, served.Server.Statistics.Rejected);
    }

    [Fact]
    public void Doorbell_write_is_trapped_into_the_shadow_page_and_signals_its_eventfd()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        served.Proxy.BarWrite(ServedDevice.Bar0Base + ServedDevice.CqHeadOffset, 17, 4);
        Assert.Equal(17u, served.Doorbells.Shadow.ReadUInt32(4));
        Assert.Equal(1ul, served.Doorbells.TakeSignals(1));
        Assert.Equal(0ul, served.Doorbells.TakeSignals(1));
        Assert.Equal(0ul, served.Doorbells.TakeSignals(0));
        Assert.Empty(served.Device.Writes);
        Assert.Equal(1L, served.Doorbells.TrappedWrites);
        Assert.Equal(1L, served.Server.Statistics.DoorbellWrites);
    }

    [Fact]
    public void Waiting_returns_each_fired_doorbell_once_and_then_times_out()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        served.Proxy.BarWrite(ServedDevice.Bar0Base + ServedDevice.SqTailOffset, 5, 4);
        served.Proxy.BarWrite(ServedDevice.Bar0Base + ServedDevice.SqTailOffset, 6, 4);
        using var events = new DoorbellEvents();                // the same wait set a KVM binding uses
        int source = events.Add(served.Doorbells);
        Span<DoorbellEvent> fired = stackalloc DoorbellEvent[8];
        Assert.Equal(1, events.Wait(fired, 5000));
        Assert.Equal(new DoorbellEvent(source, 0) { Signals = 2 }, fired[0]);
        Assert.Equal(6u, served.Doorbells.Shadow.ReadUInt32(0));
        Assert.Equal(0, events.Wait(fired, 50));                // drained: no second wake-up
        events.Wake();
        Assert.Equal(0, events.Wait(fired, 5000));              // a wake returns at once, with no rows
    }

    [Fact]
    public void Doorbell_access_kvm_would_not_match_falls_through_to_dispatch()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        served.Proxy.BarWrite(ServedDevice.Bar0Base + ServedDevice.SqTailOffset, 3, 2);   // wrong width
        served.Proxy.BarWrite(ServedDevice.Bar0Base + ServedDevice.KickOffset, 2, 2);     // datamatch 1 only
        served.Proxy.BarWrite(ServedDevice.Bar0Base + ServedDevice.KickOffset, 1, 2);     // matches
        Assert.Equal([(ServedDevice.SqTailOffset, 2, 3ul), (ServedDevice.KickOffset, 2, 2ul)], served.Device.Writes.ToArray());
        Assert.Equal(1ul, served.Doorbells.TakeSignals(2));
        Assert.Equal(0u, served.Doorbells.Shadow.ReadUInt32(0));
    }

    [Fact]
    public void A_datamatch_doorbell_compares_only_the_bytes_written_as_kvm_does()
    {
        using var served = new ServedDevice();
        served.Enumerate();
        served.Proxy.BarWrite(ServedDevice.Bar0Base + ServedDevice.KickOffset, 0xdead_0001, 2);   // a 2-byte write of 0x0001
        Assert.Empty(served.Device.Writes);
        Assert.Equal(1ul, served.Doorbells.TakeSignals(2));
    }
}
