using System.Text.Json;
using ShadowIo.VfioUser.Client;

namespace ShadowIo.Benchmarks.VfioUser;

/// <summary>
/// The device in another process: this program again, as <c>vfio-user-device SOCKET</c>, serving
/// <see cref="DoorbellDevice"/> (started through <see cref="VfioUserDeviceProcess"/>). Started by
/// the out-of-process doorbell benchmark and by the client's tests.
/// </summary>
public sealed class DeviceProcess : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly VfioUserDeviceProcess _process;

    private DeviceProcess(bool observe)
    {
        _process = VfioUserDeviceProcess.Start(VfioUserDeviceProcess.ProgramOf(typeof(DeviceProcess).Assembly),
            DoorbellDeviceCommand.Name, observe ? [] : [DoorbellDeviceCommand.NoObserverOption], Patience);
    }

    /// <summary>
    /// Starts the device process and waits until it listens. With <paramref name="observe"/> its
    /// doorbell thread waits on the eventfds and reads each value from the shadow as it rings;
    /// without, the signals stay in the eventfds (as the in-process benchmark leaves them) for the
    /// VMM to drain.
    /// </summary>
    /// <exception cref="InvalidOperationException">It did not start or get ready.</exception>
    public static DeviceProcess Start(bool observe = true) => new(observe);

    /// <summary>Where it listens.</summary>
    public string SocketPath => _process.SocketPath;

    /// <summary>The process id (the client's tests kill it under a live link).</summary>
    public int Id => _process.Id;

    /// <summary>Null while it runs; once it exited, the line saying how (<see cref="VfioUserDeviceProcess.ExitDescription"/>).</summary>
    public string? ExitDescription => _process.ExitDescription;

    /// <summary>
    /// After the client disconnected: the device's one-line JSON report (signals and shadow values
    /// per row, dispatched writes, vfio-user counts); the process has exited 0.
    /// </summary>
    /// <exception cref="InvalidOperationException">It printed no report or failed.</exception>
    public JsonDocument ReadReport() => JsonDocument.Parse(_process.ReadReport());

    /// <summary>Kills the process if it still runs and removes its directory.</summary>
    public void Dispose() => _process.Dispose();
}
