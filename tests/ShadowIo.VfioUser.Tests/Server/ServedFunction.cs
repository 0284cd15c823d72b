using Xunit;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using ShadowIo.VfioUser.Server;

namespace ShadowIo.VfioUser.Tests.Server;

/// <summary>A small BAR0 device that records what reached its dispatch.</summary>
internal sealed class RecordingDevice : IMmioDevice
{
    public readonly List<(ulong Offset, int Size, ulong Value)> Writes = [];
    public readonly Dictionary<ulong, ulong> Registers = [];

    public ulong ReadMmio(ulong offset, int size) => Registers.TryGetValue(offset, out var v) ? v : 0xa5a5_0000UL | offset;

    public void WriteMmio(ulong offset, int size, ulong value)
    {
        lock (Writes) Writes.Add((offset, size, value));
        Registers[offset] = value;
    }
}

/// <summary>
/// A function served over a socketpair with the tiny client of these tests on the other end:
/// BAR0 (64-bit, 16 KiB) with two value doorbells and one notify doorbell with a datamatch,
/// BAR4 holding a 4-vector MSI-X table, INTA#.
/// </summary>
internal sealed class ServedFunction : IDisposable
{
    public static readonly PciIdentity Identity = new(0x1b36, 0x5349, 0x010802, RevisionId: 2);

    public static readonly DoorbellTable Table = new("test BAR0", 0x4000, 16,
    [
        new DoorbellEntry("SQ tail", 1, 0x1008, 4, DoorbellKind.Value, false, 0, 8),
        new DoorbellEntry("CQ head", 1, 0x100c, 4, DoorbellKind.Value, false, 0, 12),
        new DoorbellEntry("kick", 0, 0x2000, 2, DoorbellKind.Notify, true, 0x7, -1),
    ]);

    /// <param name="mappableDoorbells">Build the doorbells with <see cref="DoorbellSet.CreateMappable"/>: the server then offers BAR0's page 0x1000 for mmap.</param>
    public ServedFunction(Action<string>? log = null, bool mappableDoorbells = false)
    {
        Doorbells = mappableDoorbells ? DoorbellSet.CreateMappable(Table) : DoorbellSet.Create(Table);
        Msix = new MsixTable(4);
        var function = new PciFunction(Identity,
            [new PciBar(0, PciBarKind.Memory64, 0x4000, Device, Doorbells), new PciBar(4, PciBarKind.Memory32, Msix.BarSize, Msix)],
            () => Resets++, PciMsix.InBar(4, Msix));
        Server = new VfioUserServer(function, log: line => { lock (Log) Log.Add(line); log?.Invoke(line); });
        var (server, client) = VfioUserChannel.CreatePair(maxSendFds: 253);
        Running = Server.Serve(server);
        Client = new TestClient(client);
    }

    public RecordingDevice Device { get; } = new();
    public DoorbellSet Doorbells { get; }
    public MsixTable Msix { get; }
    public VfioUserServer Server { get; }
    public TestClient Client { get; }
    public Task Running { get; }
    public List<string> Log { get; } = [];
    public int Resets;

    /// <summary>The client's VERSION as QEMU 11.1 sends it (measured).</summary>
    public void Negotiate(string capabilities = """{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576,"max_dma_maps":65535,"pgsizes":4096,"migration":{"pgsize":4096,"max_bitmap_size":1048576},"write_multiple":true}}""")
    {
        var reply = Client.Request(VfioUserCommand.Version, Client.VersionPayload(capabilities));
        if (reply.Header.IsError) throw new InvalidOperationException($"VERSION refused: {reply.Header.Error}");
    }

    public void Dispose()
    {
        Client.Dispose();
        Running.Wait(TimeSpan.FromSeconds(10));
        Server.Dispose();
        Doorbells.Dispose();
    }
}
