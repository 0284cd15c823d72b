using Xunit;
using System.Diagnostics;
using System.Text.Json;

namespace ShadowIo.VfioUser.Tests.Client;

/// <summary>
/// The device in another process: the benchmarks program's <c>vfio-user-device</c> verb (copied
/// beside the tests), serving <c>DoorbellDevice</c> at a socket path in a fresh directory.
/// </summary>
internal sealed class DevicePeer : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly Process _process;
    private readonly Task<string> _errors;
    private readonly string _directory;

    public DevicePeer()
    {
        _directory = Directory.CreateTempSubdirectory("shadowio-vfio-user-").FullName;
        SocketPath = Path.Combine(_directory, "device.sock");
        string program = Path.Combine(AppContext.BaseDirectory, "ShadowIo.Benchmarks.dll");
        Assert.True(File.Exists(program), $"{program} is missing: the test project copies the benchmarks program beside itself.");
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(program);
        start.ArgumentList.Add("vfio-user-device");
        start.ArgumentList.Add(SocketPath);
        _process = Process.Start(start)!;
        _errors = _process.StandardError.ReadToEndAsync();
        var ready = _process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(Patience) || ready.Result != "ready")
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"the device process did not get ready: {ready.Result ?? "(exited)"} {_errors.Result}");
        }
    }

    public string SocketPath { get; }

    public int ProcessId => _process.Id;

    /// <summary>After the client disconnected: the device's report (what it read from its shadow, what its dispatch saw).</summary>
    public JsonDocument Report()
    {
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(Patience) || line.Result == null)
            Assert.Fail($"the device process printed no report: {(_process.HasExited ? _errors.Result : "(still running)")}");
        Assert.True(_process.WaitForExit(Patience), "the device process did not exit after its report");
        Assert.True(_process.ExitCode == 0, _errors.Result);
        return JsonDocument.Parse(line.Result);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
