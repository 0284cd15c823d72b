using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.Linux.Tests.Guest;
using ShadowIo.LinuxGuest;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Server;
using Xunit;

namespace ShadowIo.Linux.Tests.VfioUser;

/// <summary>
/// The vfio-user server against real QEMU 11.1 (vfio-user-pci, TCG) and Linux 6.1: a recording
/// device behind a 64-bit BAR0 with doorbells, an MSI-X table in BAR4, enumerated by the guest and
/// poked with devmem through its BAR; guest RAM arrives as a file's fd through DMA_MAP.
/// </summary>
[Collection(QemuGuestCollection.Name)]
public sealed class VfioUserFunctionBootTests(ITestOutputHelper output)
{
    private const int GuestMiB = 512;
    private const string SocketName = "function.sock";

    // "Other memory controller": no guest driver binds it.
    private static readonly PciIdentity Identity = new(0x1b36, 0x7e58, 0x058000, RevisionId: 4, SubsystemVendorId: 0x1b36, SubsystemId: 0x7e58);

    [Fact]
    public async Task Linux_enumerates_the_served_function_reads_bar0_and_a_doorbell_write_reaches_the_doorbell_set()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = await RepositoryGuest.QemuRootAsync(ct);
        using var sockets = root.CreateRunDirectory();
        var device = new RecordingDevice();
        using var doorbells = DoorbellSet.Create(RecordingDevice.CreateTable());
        var msix = new MsixTable(4);
        var log = new List<string>();
        using var server = new VfioUserServer(
            new PciFunction(Identity, [new PciBar(0, PciBarKind.Memory64, RecordingDevice.Bar0Size, device, doorbells), new PciBar(4, PciBarKind.Memory32, msix.BarSize, msix)],
                Msix: PciMsix.InBar(4, msix)),
            log: line => { lock (log) log.Add(line); });
        var serving = server.Serve(sockets.HostPath(SocketName));
        GuestRunResult result;
        try
        {
            result = await RepositoryGuest.RunAsync(new LinuxGuestOptions
            {
                QemuRoot = root,
                Script = Script,
                MemoryMiB = GuestMiB,
                SharedMemory = true,
                ExtraQemuArgs =
                [
                    "-device", $$$"""{"driver":"vfio-user-pci","socket":{"path":"{{{sockets.PathInRoot(SocketName)}}}","type":"unix"}}""",
                ],
                Timeout = TimeSpan.FromMinutes(4),
            }, ct);
        }
        finally
        {
            server.Stop();
        }
        await serving.WaitAsync(TimeSpan.FromSeconds(10), ct);
        output.WriteLine(result.Output);
        lock (log) foreach (var line in log) output.WriteLine($"[server] {line}");
        var stats = server.Statistics;
        output.WriteLine($"messages {stats.Messages}, region reads {stats.RegionReads}, writes {stats.RegionWrites} (posted {stats.PostedWrites}), doorbells {stats.DoorbellWrites}, DMA maps {stats.DmaMaps}/unmaps {stats.DmaUnmaps}, resets {stats.Resets}, errors {stats.ErrorReplies}");

        var lines = result.Lines;
        Assert.Contains("class 0x058000 revision 0x04 subsystem 0x1b36:0x7e58", lines);
        Assert.Contains(lines, l => l.StartsWith("bar 0x", StringComparison.Ordinal) && l != "bar 0x0000000000000000");
        Assert.Contains($"read 0x{0xA5A5 ^ 0x20:X8}", lines);                       // the device's value, through BAR0
        Assert.Contains("read back 0x12345678", lines);
        Assert.Contains(lines, l => l.Contains("MSI-X: Enable- Count=4", StringComparison.Ordinal) || l == "msix cap 0x11");
        Assert.Contains((0x40ul, 4, 0x12345678ul), device.Writes);
        Assert.Equal(7u, doorbells.Shadow.ReadUInt32(0));                          // SqTail doorbell, through the trap path
        Assert.NotEqual(0ul, doorbells.TakeSignals(0));
        Assert.DoesNotContain(device.Writes, w => w.Offset == RecordingDevice.SqTailOffset);
        Assert.True(stats.DoorbellWrites >= 1);
        Assert.True(server.GuestMemory.Contains(0x10_0000, 0x100_0000), "guest RAM was not mapped through DMA_MAP with its fd");
        Assert.Equal(0, stats.DeviceFailures);
    }

    private const string Script = """
        dev=
        for d in /sys/bus/pci/devices/*; do
          if [ "$(cat $d/vendor)" = 0x1b36 ] && [ "$(cat $d/device)" = 0x7e58 ]; then dev=$d; fi
        done
        [ -n "$dev" ] || { echo "device not found"; exit 1; }
        echo "class $(cat $dev/class) revision $(cat $dev/revision) subsystem $(cat $dev/subsystem_vendor):$(cat $dev/subsystem_device)"
        bar=$(head -n 1 $dev/resource | cut -d' ' -f1)
        echo "bar $bar"
        cap=$(od -An -tx1 -j 64 -N 1 $dev/config | tr -d ' ')
        echo "msix cap 0x$cap"
        # Memory decoding on (command register bits 1 and 2), through the config space file.
        printf '\006\000' | dd of=$dev/config bs=1 seek=4 conv=notrunc 2>/dev/null
        echo "read $(devmem $((bar + 0x20)) 32)"
        devmem $((bar + 0x40)) 32 0x12345678
        echo "read back $(devmem $((bar + 0x40)) 32)"
        devmem $((bar + 0x1000)) 32 7
        exit 0
        """;
}
