using ShadowIo.Qemu;
using ShadowIo.Pci;
using ShadowIo.Qemu.Protocol;

namespace ShadowIo.Linux.Tests.Qemu.Support;

/// <summary>
/// A <see cref="QemuProxyServer"/> running on one end of a socketpair with a recording device
/// behind BAR0 (16 KiB, 32-bit memory) and a small doorbell table, and the fake proxy on the
/// other end.
/// </summary>
internal sealed class ServedDevice : IDisposable
{
    public const ulong Bar0Size = 0x4000;
    public const ulong Bar0Base = 0xfebf_0000;
    public const ulong SqTailOffset = 0x1000;   // value doorbell, 4 bytes, shadow offset 0
    public const ulong CqHeadOffset = 0x1004;   // value doorbell, 4 bytes, shadow offset 4
    public const ulong KickOffset = 0x1100;     // notify doorbell, datamatch 1

    public static readonly PciIdentity Identity = new(0x1b36, 0x1234, 0x010802, RevisionId: 2, SubsystemVendorId: 0x1af4, SubsystemId: 0x1100);

    public static DoorbellTable CreateTable() => new("test block", Bar0Size, 8,
    [
        new DoorbellEntry("SqTail", 0, SqTailOffset, 4, DoorbellKind.Value, false, 0, 0),
        new DoorbellEntry("CqHead", 0, CqHeadOffset, 4, DoorbellKind.Value, false, 0, 4),
        new DoorbellEntry("Kick", 0, KickOffset, 2, DoorbellKind.Notify, true, 1, -1),
    ]);

    public ServedDevice(List<string>? log = null)
    {
        Device = new RecordingDevice();
        Doorbells = DoorbellSet.Create(CreateTable());
        var (server, proxy) = MpqemuChannel.CreateSocketPair();
        Log = log ?? [];
        Server = new QemuProxyServer(server, new PciFunction(Identity, [new PciBar(0, PciBarKind.Memory32, Bar0Size, Device, Doorbells)],
            () => Interlocked.Increment(ref Device.Resets)), line => { lock (Log) Log.Add(line); });
        Running = Server.Start();
        Proxy = new FakeQemuProxy(proxy);
    }

    public RecordingDevice Device { get; }
    public DoorbellSet Doorbells { get; }
    public QemuProxyServer Server { get; }
    public FakeQemuProxy Proxy { get; }
    public Task Running { get; }
    public List<string> Log { get; }

    /// <summary>Programs BAR0 and enables memory decoding, as firmware would.</summary>
    public void Enumerate()
    {
        Proxy.ConfigWrite(0x10, (uint)Bar0Base, 4);
        Proxy.ConfigWrite(0x04, 0x0006, 2);
    }

    public void Dispose()
    {
        Proxy.Dispose();
        Running.Wait(TimeSpan.FromSeconds(10));
        Server.Dispose();
        Doorbells.Dispose();
    }
}
