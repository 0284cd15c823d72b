using ShadowIo.Binding;
using ShadowIo.Runtime.Tests.Support;

namespace ShadowIo.Runtime.Tests.Binding;

public sealed class MmioBusTests
{
    [Fact]
    public void Overlapping_ranges_are_refused_and_adjacent_ones_accepted()
    {
        var bus = new MmioBus();
        bus.Add(0x1000, 0x1000, new RecordingDevice());

        Assert.Throws<ArgumentException>(() => bus.Add(0x1800, 0x1000, new RecordingDevice()));
        Assert.Throws<ArgumentException>(() => bus.Add(0x0800, 0x1000, new RecordingDevice()));
        Assert.Throws<ArgumentException>(() => bus.Add(0x0000, 0x10000, new RecordingDevice()));
        bus.Add(0x2000, 0x1000, new RecordingDevice());
        bus.Add(0x0000, 0x1000, new RecordingDevice());
        Assert.Equal(3, bus.Ranges.Length);
    }

    [Fact]
    public void Devices_see_offsets_within_their_own_range()
    {
        var bus = new MmioBus();
        var first = new RecordingDevice(readValue: 1);
        var second = new RecordingDevice(readValue: 2);
        bus.Add(0xFE00_0000, 0x1000, first);
        bus.Add(0xFE00_1000, 0x1000, second);

        Assert.True(bus.TryWrite(0xFE00_1010, 4, 7));
        Assert.True(bus.TryRead(0xFE00_0FFC, 4, out ulong value));

        Assert.Equal([(0x10UL, 4, 7UL)], second.Writes);
        Assert.Equal([(0xFFCUL, 4)], first.Reads);
        Assert.Equal(1UL, value);
    }

    [Fact]
    public void Accesses_outside_every_range_or_across_its_end_are_not_claimed()
    {
        var bus = new MmioBus();
        var device = new RecordingDevice();
        bus.Add(0x1000, 0x1000, device);

        Assert.False(bus.TryWrite(0x0FFF, 1, 0));
        Assert.False(bus.TryWrite(0x1FFE, 4, 0));
        Assert.False(bus.TryRead(0x2000, 4, out _));
        Assert.False(bus.TryRead(ulong.MaxValue, 8, out _));
        Assert.Empty(device.Writes);
        Assert.True(bus.Remove(0x1000));
        Assert.False(bus.TryWrite(0x1000, 4, 0));
    }
}
