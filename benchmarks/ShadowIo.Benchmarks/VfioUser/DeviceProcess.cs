using System.Diagnostics;
using System.Text.Json;

namespace ShadowIo.Benchmarks.VfioUser;

/// <summary>
/// The device in another process: this program again, as <c>vfio-user-device SOCKET</c>, serving
/// <see cref="DoorbellDevice"/> at a socket in a fresh directory. Started by the out-of-process
/// doorbell benchmark and by the client's tests.
/// </summary>
public sealed class DeviceProcess : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly Process _process;
    private readonly Task<string> _errors;
    private readonly string _directory;

    private DeviceProcess(bool observe)
    {
        _directory = Directory.CreateTempSubdirectory("shadowio-vfio-user-").FullName;
        SocketPath = Path.Combine(_directory, "device.sock");
        var start = ThisProgram();
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.ArgumentList.Add(DoorbellDeviceCommand.Name);
        start.ArgumentList.Add(SocketPath);
        if (!observe) start.ArgumentList.Add(DoorbellDeviceCommand.NoObserverOption);
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} could not be started.");
        _errors = _process.StandardError.ReadToEndAsync();
        var ready = _process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(Patience) || ready.Result != "ready")
        {
            Kill();
            throw new InvalidOperationException($"the vfio-user device process did not get ready: {ready.Result ?? "(it exited)"} {(_process.HasExited ? _errors.Result : "")}".Trim());
        }
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
    public string SocketPath { get; }

    /// <summary>
    /// After the client disconnected: the device's one-line JSON report (signals and shadow values
    /// per row, dispatched writes, vfio-user counts); the process has exited 0.
    /// </summary>
    /// <exception cref="InvalidOperationException">It printed no report or failed.</exception>
    public JsonDocument ReadReport()
    {
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(Patience) || line.Result == null)
            throw new InvalidOperationException($"the vfio-user device process printed no report: {(_process.HasExited ? _errors.Result : "(still running)")}");
        if (!_process.WaitForExit(Patience) || _process.ExitCode != 0)
            throw new InvalidOperationException($"the vfio-user device process failed: {_errors.Result}");
        return JsonDocument.Parse(line.Result);
    }

    /// <summary>Kills the process if it still runs and removes its directory.</summary>
    public void Dispose()
    {
        Kill();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    /// <summary>
    /// The benchmarks program, whoever hosts this code (the program itself, or a test process that
    /// references it): its apphost beside the assembly, or <c>dotnet</c> with the assembly.
    /// </summary>
    private static ProcessStartInfo ThisProgram()
    {
        string assembly = typeof(DeviceProcess).Assembly.Location;
        string appHost = Path.Combine(Path.GetDirectoryName(assembly)!, Path.GetFileNameWithoutExtension(assembly));
        if (File.Exists(appHost)) return new ProcessStartInfo(appHost);
        string? host = Environment.ProcessPath;
        var start = new ProcessStartInfo(host != null && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet");
        start.ArgumentList.Add(assembly);
        return start;
    }
}
