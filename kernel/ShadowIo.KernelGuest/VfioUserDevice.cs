using System.Globalization;
using ShadowIo.Pci;
using ShadowIo.Testing;
using ShadowIo.VfioUser.Client;
using ShadowIo.VfioUser.Server;

namespace ShadowIo.KernelGuest;

/// <summary>
/// The device process of the out-of-process runs: this program again, as
/// <c>vfio-user-device SOCKET</c>, serving <see cref="DoorbellTestBlock"/> as BAR0 of a PCI
/// function over vfio-user. Its value doorbells go out as IOEVENTFD_SHADOW entries (its own
/// eventfds, its own shadow memfd), its notify doorbells as IOEVENTFD entries. It prints
/// <c>ready</c> once it listens; a thread waits on its eventfds and counts every signal while the
/// guest runs; when the client has gone it reads each value doorbell from its shadow memfd with
/// the generated DoorbellReader and prints one <see cref="DeviceReport"/> line.
/// </summary>
internal static class VfioUserDevice
{
    public const string Verb = "vfio-user-device";

    public static int Serve(string socketPath)
    {
        var device = new DoorbellTestBlock();
        device.ResetRegisters();
        using var doorbells = DoorbellSet.Create(DoorbellTestBlock.DoorbellTable);
        var function = new PciFunction(new PciIdentity(0x1b36, 0x5351, 0xff0000),
            [new PciBar(0, PciBarKind.Memory64, DoorbellTestBlock.BlockSize, device, doorbells)],
            Reset: device.ResetRegisters);
        using var server = new VfioUserServer(function, log: line => Console.Error.WriteLine($"{Verb}: {line}"));
        // The device's doorbell thread, blocked on its own eventfds while the guest runs, exactly
        // as the in-process runs count: the device learns of each write while it happens.
        using var events = new DoorbellEvents();
        int source = events.Add(doorbells);
        using var counter = new DoorbellSignalCounter(events, source, DoorbellTestBlock.DoorbellTable.Count);
        var serving = server.Serve(socketPath);
        Console.WriteLine(VfioUserDeviceProcess.ReadyLine);
        Console.Out.Flush();
        serving.GetAwaiter().GetResult();

        var report = new DeviceReport(
            counter.Stop(),
            ModeRun.LastValues(doorbells.Shadow),
            device.Control,
            [.. device.Dispatched],
            server.Statistics.RegionWrites,
            server.Statistics.RegionReads,
            doorbells.TrappedWrites,
            server.DmaMapCount,
            server.EndReason);
        Console.WriteLine(report.Format());
        Console.Out.Flush();
        return 0;
    }
}

/// <summary>
/// What the device process saw, as one line: <c>DEVICE signals=a,b values=x,y control=c
/// dispatched=row:value,... region_writes=n region_reads=n server_trapped=n dma_maps=n end=text</c>
/// (numbers hex where they are register or doorbell values).
/// </summary>
internal sealed record DeviceReport(
    ulong[] Signals,
    ulong[] Values,
    uint Control,
    (int Row, ulong Value)[] Dispatched,
    long RegionWrites,
    long RegionReads,
    long ServerTrappedWrites,
    int DmaMaps,
    string? EndReason)
{
    private const string Prefix = "DEVICE ";

    public string Format() =>
        Prefix + string.Create(CultureInfo.InvariantCulture,
            $"signals={string.Join(",", Signals)} values={string.Join(",", Values.Select(Report.Hex))} control={Report.Hex(Control)} " +
            $"dispatched={string.Join(",", Dispatched.Select(d => $"{d.Row}:{Report.Hex(d.Value)}"))} " +
            $"region_writes={RegionWrites} region_reads={RegionReads} server_trapped={ServerTrappedWrites} dma_maps={DmaMaps} end={EndReason ?? "clean"}");

    public static DeviceReport Parse(string line)
    {
        if (!line.StartsWith(Prefix, StringComparison.Ordinal)) throw new FormatException($"not a device report: {line}");
        // end= comes last and may hold spaces.
        int end = line.IndexOf(" end=", StringComparison.Ordinal);
        var fields = line[Prefix.Length..end].Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
        static ulong Hex(string s) => ulong.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        static long Dec(string s) => long.Parse(s, CultureInfo.InvariantCulture);
        static string[] List(string s) => s.Length == 0 ? [] : s.Split(',');
        string endReason = line[(end + " end=".Length)..];
        return new DeviceReport(
            [.. List(fields["signals"]).Select(s => (ulong)Dec(s))],
            [.. List(fields["values"]).Select(Hex)],
            (uint)Hex(fields["control"]),
            [.. List(fields["dispatched"]).Select(d => d.Split(':')).Select(p => ((int)Dec(p[0]), Hex(p[1])))],
            Dec(fields["region_writes"]),
            Dec(fields["region_reads"]),
            Dec(fields["server_trapped"]),
            (int)Dec(fields["dma_maps"]),
            endReason == "clean" ? null : endReason);
    }
}

/// <summary>The device process, started from this program's own executable (<see cref="VfioUserDeviceProcess"/>), and its report.</summary>
internal sealed class DeviceProcess : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly VfioUserDeviceProcess _process = VfioUserDeviceProcess.Start(
        VfioUserDeviceProcess.ProgramOf(typeof(DeviceProcess).Assembly), VfioUserDevice.Verb, [], Patience);

    /// <summary>Where the device listens.</summary>
    public string SocketPath => _process.SocketPath;

    /// <summary>The process id, for the report.</summary>
    public int Id => _process.Id;

    /// <summary>After the client disconnected: the device's report; the process has exited 0.</summary>
    public DeviceReport ReadReport() => DeviceReport.Parse(_process.ReadReport());

    public void Dispose() => _process.Dispose();
}
