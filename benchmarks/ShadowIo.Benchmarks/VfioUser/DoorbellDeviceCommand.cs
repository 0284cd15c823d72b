using System.Text.Json;
using ShadowIo.Pci;
using ShadowIo.VfioUser.Client;
using ShadowIo.VfioUser.Server;

namespace ShadowIo.Benchmarks.VfioUser;

/// <summary>
/// <c>-- vfio-user-device SOCKET</c>: the device process of the out-of-process doorbell runs.
/// Serves <see cref="DoorbellDevice"/> over vfio-user at SOCKET, prints <c>ready</c> once it
/// listens, and consumes its doorbells as a device does: a thread waits on the eventfds and, per
/// signal, reads the value from the shadow (not with --no-observer). When the client disconnects it prints one JSON line
/// (<c>signals</c> and <c>values</c> per row, <c>dispatched</c> writes, vfio-user counts) and exits 0.
/// </summary>
internal static class DoorbellDeviceCommand
{
    public const string Name = "vfio-user-device";

    /// <summary>No doorbell thread: signals stay in the eventfds for the VMM to drain (the benchmark's way).</summary>
    public const string NoObserverOption = "--no-observer";

    public static int Run(string[] args)
    {
        if (args.Length is not (2 or 3) || (args.Length == 3 && args[2] != NoObserverOption))
        {
            Console.Error.WriteLine($"{Name}: usage: {Name} SOCKET [{NoObserverOption}]");
            return 2;
        }
        bool observe = args.Length == 2;
        var device = new DoorbellDevice();
        using var doorbells = DoorbellSet.Create(DoorbellDevice.Table);
        var msix = new MsixTable(DoorbellDevice.Vectors);
        using var server = new VfioUserServer(device.Function(doorbells, msix), log: line => Console.Error.WriteLine($"{Name}: {line}"));
        device.RaiseVector = server.Interrupts.Raise;
        var observer = new DoorbellObserver(doorbells);
        var observing = observe ? observer.Start() : Task.CompletedTask;
        var serving = server.Serve(args[1]);
        Console.WriteLine(VfioUserDeviceProcess.ReadyLine);
        Console.Out.Flush();
        serving.GetAwaiter().GetResult();
        if (observe)
        {
            observer.Stop();
            observing.GetAwaiter().GetResult();
        }
        else
        {
            observer.DrainPending();
        }
        var table = DoorbellDevice.Table;
        var report = new
        {
            signals = observer.Signals,
            values = Enumerable.Range(0, table.Count).Select(row => observer.Values[row]).ToArray(),
            dispatched = device.Dispatched.Select(w => new[] { w.Offset, (ulong)w.Size, w.Value }).ToArray(),
            region_writes = server.Statistics.RegionWrites,
            doorbell_region_writes = server.Statistics.DoorbellWrites,
            trapped_by_server = doorbells.TrappedWrites,
            dma_maps = server.DmaMapCount,
            end = server.EndReason,
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }

    /// <summary>The device's doorbell thread: per signalled row, the value from the shadow.</summary>
    private sealed class DoorbellObserver(DoorbellSet doorbells)
    {
        private readonly DoorbellEvents _events = new();
        private volatile bool _stopping;

        public ulong[] Signals { get; } = new ulong[doorbells.Table.Count];
        public ulong[] Values { get; } = new ulong[doorbells.Table.Count];

        public Task Start()
        {
            _events.Add(doorbells);
            return Task.Factory.StartNew(Loop, TaskCreationOptions.LongRunning);
        }

        public void Stop()
        {
            _stopping = true;
            _events.Wake();
        }

        private void Loop()
        {
            var fired = new DoorbellEvent[64];
            while (true)
            {
                bool stopping = _stopping;
                int n = _events.Wait(fired, stopping ? 0 : -1);
                for (int i = 0; i < n; i++) Observe(fired[i].Row, fired[i].Signals);
                if (stopping && n == 0) break;
            }
            DrainPending();
            _events.Dispose();
        }

        /// <summary>Whatever is still pending (a final ring racing the stop, or everything without the thread).</summary>
        public void DrainPending()
        {
            for (int row = 0; row < Signals.Length; row++) Observe(row, doorbells.TakeSignals(row));
        }

        private void Observe(int row, ulong signals)
        {
            if (signals == 0) return;
            Signals[row] += signals;
            ref readonly var e = ref doorbells.Table[row];
            if (e.Kind == DoorbellKind.Value) Values[row] = doorbells.Shadow.Read(e.ShadowOffset, e.Width);
        }
    }
}
