using System.Globalization;
using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.Linux.Tests.Qemu.Support;
using ShadowIo.Qemu;
using ShadowIo.Pci;
using ShadowIo.Qemu.Protocol;
using ShadowIo.LinuxGuest;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.Linux.Tests.Qemu.EndToEnd;

/// <summary>
/// The transport alone against real QEMU 7.2: a generic recording device behind
/// x-pci-proxy-dev, enumerated by Linux and poked with devmem through its BAR.
/// </summary>
[Collection(QemuGuestCollection.Name)]
public sealed class ProxiedFunctionBootTests
{
    // "Other memory controller": no guest driver binds it.
    private static readonly PciIdentity Identity = new(0x1b36, 0x7e57, 0x058000, RevisionId: 3, SubsystemVendorId: 0x1b36, SubsystemId: 0x7e57);

    private readonly ITestOutputHelper _output;

    public ProxiedFunctionBootTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Linux_enumerates_the_proxied_function_and_its_bar_accesses_reach_the_device()
    {
        var ct = TestContext.Current.CancellationToken;
        var device = new RecordingDevice();
        using var doorbells = DoorbellSet.Create(ServedDevice.CreateTable());
        using var link = ProxySocketPair.Create();
        var log = new List<string>();
        using var server = new QemuProxyServer(link,
            new PciFunction(Identity, [new PciBar(0, PciBarKind.Memory32, ServedDevice.Bar0Size, device, doorbells)]),
            line => { lock (log) log.Add(line); });
        var running = server.Start();
        GuestRunResult result;
        try
        {
            result = await RepositoryGuest.RunAsync(new LinuxGuestOptions
            {
                Script = Script,
                ExtraQemuArgs =
                [
                    "-object", "memory-backend-memfd,id=mem,size=1024M,share=on",
                    "-machine", "pc,memory-backend=mem",
                    "-device", $"x-pci-proxy-dev,id=dev0,fd={link.QemuFd.ToString(CultureInfo.InvariantCulture)}",
                ],
                InheritedFds = [link.QemuFd],
                MemoryMiB = 1024,
                Timeout = TimeSpan.FromMinutes(4),
            }, ct);
        }
        finally
        {
            link.CloseQemuEnd();   // QEMU has exited: our copy was the last, so the server sees the link end
        }
        await running.WaitAsync(TimeSpan.FromSeconds(10), ct);
        _output.WriteLine(result.Output);
        lock (log) foreach (var line in log) _output.WriteLine($"[proxy] {line}");
        _output.WriteLine(server.Statistics.ToString());

        var lines = result.Lines;
        Assert.Contains("class 0x058000 revision 0x03 subsystem 0x1b36:0x7e57", lines);
        ulong bar = server.ConfigSpace.GetBarBase(0);
        Assert.NotEqual(0ul, bar);
        Assert.Contains($"bar 0x{bar:x16}", lines);
        Assert.Contains($"read 0x{0xA5A5 ^ 0x20:X8}", lines);                       // the device's value, through the BAR
        Assert.Contains("read back 0x12345678", lines);
        Assert.Contains((0x40ul, 4, 0x12345678ul), device.Writes);
        Assert.Equal(7u, doorbells.Shadow.ReadUInt32(0));                          // SqTail doorbell, trapped
        Assert.NotEqual(0ul, doorbells.TakeSignals(0));
        Assert.DoesNotContain(device.Writes, w => w.Offset == ServedDevice.SqTailOffset);
        Assert.True(server.RamMapper.Syncs > 0);
        Assert.Equal(1, server.RamMapper.ActiveMappings);                          // one memfd, mapped once
        Assert.True(server.GuestMemory.Contains(0x10_0000, 0x100_0000));
        Assert.Equal(0L, server.Statistics.Rejected);
    }

    private const string Script = """
        dev=
        for d in /sys/bus/pci/devices/*; do
          if [ "$(cat $d/vendor)" = 0x1b36 ] && [ "$(cat $d/device)" = 0x7e57 ]; then dev=$d; fi
        done
        [ -n "$dev" ] || { echo "device not found"; exit 1; }
        echo "class $(cat $dev/class) revision $(cat $dev/revision) subsystem $(cat $dev/subsystem_vendor):$(cat $dev/subsystem_device)"
        bar=$(head -n 1 $dev/resource | cut -d' ' -f1)
        echo "bar $bar"
        # Memory decoding on (command register bits 1 and 2), through the config space file.
        printf '\006\000' | dd of=$dev/config bs=1 seek=4 conv=notrunc 2>/dev/null
        echo "read $(devmem $((bar + 0x20)) 32)"
        devmem $((bar + 0x40)) 32 0x12345678
        echo "read back $(devmem $((bar + 0x40)) 32)"
        devmem $((bar + 0x1000)) 32 7
        exit 0
        """;
}
