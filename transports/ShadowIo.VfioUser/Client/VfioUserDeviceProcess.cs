using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace ShadowIo.VfioUser.Client;

/// <summary>
/// A vfio-user device served by another process that this one starts: usually this program
/// again, as a hidden verb (<c>PROGRAM VERB SOCKET ARGS…</c>), listening at a socket in a fresh
/// directory. The child prints <see cref="ReadyLine"/> on stdout once it listens, and when its
/// client has gone it prints one report line and exits 0.
/// </summary>
/// <remarks>
/// The one place ShadowIo spawns a device process (the doorbell benchmark's device, the kernel
/// guest's out-of-process runs and the NVMe workload's <c>--transport vfio-user</c> all do).
/// The child's stderr is collected for the error that describes its failure.
/// </remarks>
public sealed class VfioUserDeviceProcess : IDisposable
{
    /// <summary>The line the device process prints on stdout once its server listens.</summary>
    public const string ReadyLine = "ready";

    private readonly Process _process;
    private readonly Task<string> _errors;
    private readonly string _directory;
    private readonly TimeSpan _patience;
    private int _disposed;

    private VfioUserDeviceProcess(ProcessStartInfo program, string verb, IEnumerable<string> arguments, TimeSpan patience, string? temporaryRoot)
    {
        _patience = patience;
        // CreateTempSubdirectory makes it 0700 in the system's temp directory; a caller's root is its own to protect.
        _directory = temporaryRoot is null
            ? Directory.CreateTempSubdirectory(DirectoryPrefix).FullName
            : Directory.CreateDirectory(Path.Combine(temporaryRoot, DirectoryPrefix + Path.GetRandomFileName())).FullName;
        SocketPath = Path.Combine(_directory, "device.sock");
        program.UseShellExecute = false;
        program.RedirectStandardOutput = true;
        program.RedirectStandardError = true;
        program.ArgumentList.Add(verb);
        program.ArgumentList.Add(SocketPath);
        foreach (string argument in arguments) program.ArgumentList.Add(argument);
        Process? process;
        try
        {
            process = Process.Start(program);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Directory.Delete(_directory, recursive: true);
            throw new InvalidOperationException($"the vfio-user device process ({program.FileName}) could not be started: {e.Message}", e);
        }
        _process = process ?? throw new InvalidOperationException($"the vfio-user device process ({program.FileName}) could not be started.");
        _errors = _process.StandardError.ReadToEndAsync();
        var ready = _process.StandardOutput.ReadLineAsync();
        bool answered = ready.Wait(patience);
        if (!answered || ready.Result != ReadyLine)
        {
            string said = !answered ? $"nothing within {patience.TotalSeconds:0.#} s"
                : ready.Result is { } line ? $"it printed '{line}' instead of '{ReadyLine}'"
                // End of stdout: it is exiting, or closed it and lives on (then it is killed below).
                : _process.WaitForExit(patience) ? $"it exited with code {_process.ExitCode}"
                : "it closed its stdout";
            // Whatever it does instead, it is not serving: it (and anything it started) is killed
            // and reaped here, so no half-started device outlives the error, and the error does
            // not wait the patience out a second time for a child that will never exit.
            KillAndReap();
            string message = $"the vfio-user device process did not get ready ({said}){ErrorSuffix()}";
            Dispose();
            throw new InvalidOperationException(message);
        }
    }

    private const string DirectoryPrefix = "shadowio-vfio-user-";

    /// <summary>
    /// Starts <paramref name="program"/> with <c>VERB SOCKET ARGUMENTS…</c> and waits, at most
    /// <paramref name="patience"/>, for its <see cref="ReadyLine"/>.
    /// </summary>
    /// <param name="program">The executable (see <see cref="ProgramOf"/>); its argument list is appended to.</param>
    /// <param name="verb">The verb that makes the program serve its device.</param>
    /// <param name="arguments">What follows the socket path.</param>
    /// <param name="patience">How long the start may take (a .NET program under load takes seconds).</param>
    /// <exception cref="InvalidOperationException">It could not be started, exited or printed something else first: the message says which, with its last stderr line.</exception>
    public static VfioUserDeviceProcess Start(ProcessStartInfo program, string verb, IEnumerable<string> arguments, TimeSpan patience) =>
        Launch(program, verb, arguments, patience, temporaryRoot: null);

    private static VfioUserDeviceProcess Launch(ProcessStartInfo program, string verb, IEnumerable<string> arguments, TimeSpan patience, string? temporaryRoot)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentException.ThrowIfNullOrEmpty(verb);
        ArgumentNullException.ThrowIfNull(arguments);
        return new VfioUserDeviceProcess(program, verb, arguments, patience, temporaryRoot);
    }

    /// <summary>
    /// <see cref="Start(ProcessStartInfo, string, IEnumerable{string}, TimeSpan)"/> with the socket's
    /// directory made in <paramref name="temporaryRoot"/> instead of the system's temp directory:
    /// the tests' way to see that a failed start leaves nothing behind.
    /// </summary>
    internal static VfioUserDeviceProcess Start(ProcessStartInfo program, string verb, IEnumerable<string> arguments, TimeSpan patience, string temporaryRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(temporaryRoot);
        return Launch(program, verb, arguments, patience, temporaryRoot);
    }

    /// <summary>
    /// How to start the program that holds <paramref name="assembly"/>, whoever hosts it (the
    /// program itself, or a test process that references it): its apphost beside the assembly,
    /// else <c>dotnet</c> with the assembly; a NativeAOT or single-file program (no assembly
    /// file) is its own executable.
    /// </summary>
    /// <exception cref="InvalidOperationException">There is no file to start.</exception>
    // ILC reports IL3000 itself when a NativeAOT program (the kernel guest's runner) is published,
    // and honours only this attribute there, not a #pragma: the empty Location is handled below.
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty Location (NativeAOT, single-file) means the running executable is the program.")]
    public static ProcessStartInfo ProgramOf(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        string location = assembly.Location;
        string? running = Environment.ProcessPath;
        if (location.Length == 0)
            return new ProcessStartInfo(running ?? throw new InvalidOperationException("this program has no path to start again."));
        string appHost = Path.Combine(Path.GetDirectoryName(location)!, Path.GetFileNameWithoutExtension(location));
        if (File.Exists(appHost)) return new ProcessStartInfo(appHost);
        var start = new ProcessStartInfo(running != null && Path.GetFileNameWithoutExtension(running) == "dotnet" ? running : "dotnet");
        start.ArgumentList.Add(location);
        return start;
    }

    /// <summary>Where the device listens.</summary>
    public string SocketPath { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>
    /// Null while the process runs; once it has exited, one line saying how (exit code and its
    /// last stderr line), for the error a VMM reports when the device dies under it.
    /// </summary>
    public string? ExitDescription =>
        _process.HasExited ? $"the vfio-user device process {Id} exited with code {_process.ExitCode}{ErrorSuffix()}" : null;

    /// <summary>
    /// After the client disconnected: the device's report line; the process has exited 0.
    /// </summary>
    /// <exception cref="InvalidOperationException">It printed no report in time, or exited nonzero.</exception>
    public string ReadReport()
    {
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(_patience) || line.Result == null)
            throw new InvalidOperationException($"the vfio-user device process printed no report ({(_process.HasExited ? $"exit code {_process.ExitCode}" : "still running")}){ErrorSuffix()}");
        if (!_process.WaitForExit(_patience) || _process.ExitCode != 0)
            throw new InvalidOperationException($"the vfio-user device process failed ({(_process.HasExited ? $"exit code {_process.ExitCode}" : "still running")}){ErrorSuffix()}");
        return line.Result;
    }

    /// <summary>The child's stderr so far is complete only once it exited: then its last line, else nothing.</summary>
    private string ErrorSuffix()
    {
        if (!_errors.Wait(TimeSpan.FromSeconds(_process.HasExited ? 5 : 0))) return "";
        string last = _errors.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        return last.Length == 0 ? "" : $": {last}";
    }

    /// <summary>Kills the process (and what it started) if it still runs, and waits until it is reaped.</summary>
    private void KillAndReap()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(_patience);
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    /// <summary>Kills the process if it still runs and removes its directory.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        KillAndReap();
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A socket the child left behind is removed with the directory; a busy one stays in /tmp.
        }
    }
}
