using Xunit;
using ShadowIo.Linux.Tests.Qemu.Support;
using ShadowIo.Qemu.Protocol;
using static Tmds.Linux.LibC;

namespace ShadowIo.Linux.Tests.Qemu;

/// <summary>SYNC_SYSMEM: guest RAM arrives as memfds and is re-sent on every memory-map change.</summary>
[Collection(FdAccountingCollection.Name)]
public sealed class ProxyGuestMemoryTests
{
    private const ulong RamSize = 4 << 20;

    [Fact]
    public void Regions_are_mapped_at_their_gpas_from_their_file_offsets()
    {
        using var ram = MemoryMapping.CreateMemfd("fake guest ram", RamSize);
        ram.Span[0x1000] = 0x11;
        ram.Span[0x20_0000] = 0x22;
        using var served = new ServedDevice();
        // Like pc: [0, 640K) and [1M, end) of the same memfd, the second at its own file offset.
        SendSync(served, ram, [new(0, 0xa_0000, 0), new(0x10_0000, RamSize - 0x10_0000, 0x10_0000)]);
        var memory = served.Server.GuestMemory;
        Assert.True(memory.TryRead<byte>(0x1000, out byte low));
        Assert.Equal(0x11, low);
        Assert.True(memory.TryRead<byte>(0x20_0000, out byte high));
        Assert.Equal(0x22, high);
        Assert.False(memory.Contains(0xa_0000, 1));                       // the VGA hole
        Assert.True(memory.TryWrite<uint>(0x30_0000, 0xfeedf00d));
        Assert.Equal(0xfeedf00du, BitConverter.ToUInt32(ram.Span[0x30_0000..]));
        Assert.Equal(1, served.Server.RamMapper.ActiveMappings);
    }

    [Fact]
    public void Resending_the_same_memfd_reuses_its_mapping_and_closes_the_duplicates()
    {
        using var ram = MemoryMapping.CreateMemfd("fake guest ram", RamSize);
        using var served = new ServedDevice();
        for (int i = 0; i < 150; i++)
            SendSync(served, ram, [new(0, 0xa_0000, 0), new(0x10_0000, RamSize - 0x10_0000, 0x10_0000)]);
        Assert.Equal(150L, served.Server.RamMapper.Syncs);
        Assert.Equal(1, served.Server.RamMapper.ActiveMappings);
        Assert.Equal(2, OpenDescriptors.Count("fake guest ram"));   // ours and the one mapping's
    }

    [Fact]
    public void A_new_file_replaces_the_old_one_and_malformed_regions_are_skipped()
    {
        using var first = MemoryMapping.CreateMemfd("first ram", RamSize);
        using var second = MemoryMapping.CreateMemfd("second ram", RamSize);
        second.Span[8] = 0x77;
        using var served = new ServedDevice();
        SendSync(served, first, [new(0, RamSize, 0)]);
        SendSync(served, second, [new(0, RamSize, 0), new(0x1000, 0x1000, 0), new(0xffff_ffff_ffff_f000, 0x2000, 0), new(0x4000_0000, 0, 0),
            new(0x8000_0000, RamSize, 0x1000)]);                                 // runs past the end of the memfd
        var memory = served.Server.GuestMemory;
        Assert.True(memory.TryRead<byte>(8, out byte value));
        Assert.Equal(0x77, value);
        Assert.Single(memory.Regions.ToArray());
        Assert.False(memory.Contains(0x8000_0000, 1));
        Assert.Equal(1, served.Server.RamMapper.ActiveMappings);
    }

    private static void SendSync(ServedDevice served, MemoryMapping ram, SysmemRegion[] regions)
    {
        var fds = new int[regions.Length];
        for (int i = 0; i < fds.Length; i++) fds[i] = ram.Fd;
        long before = served.Server.RamMapper.Syncs;
        served.Proxy.SyncSysmem(regions, fds);
        // SYNC_SYSMEM has no reply: a config read behind it is answered only after it was applied.
        served.Proxy.ConfigRead(0, 2);
        Assert.Equal(before + 1, served.Server.RamMapper.Syncs);
    }
}
