using System.Diagnostics;

namespace ShadowIo.LinuxGuest;

/// <summary>
/// Runs a cached, idempotent set-up script of guest/ (setup.sh, qemu-root.sh) once per process
/// per script and keeps what it printed: its <c>KEY=VALUE</c> lines and how long it took. The
/// scripts do their own machine-wide locking (flock) and caching; this only saves a process the
/// cost of asking again.
/// </summary>
internal static class SetupScript
{
    private static readonly SemaphoreSlim RunLock = new(1, 1);
    private static readonly Dictionary<string, (IReadOnlyDictionary<string, string> Values, TimeSpan Elapsed)> Done = new(StringComparer.Ordinal);

    /// <summary>The script's output lines (and its run time in this process), running it first if this process has not.</summary>
    /// <param name="script">Path of the script (run with bash).</param>
    /// <param name="purpose">What the script sets up, for the error message (e.g. "the test guest").</param>
    /// <param name="log">Receives the script's progress (its stderr) line by line while it runs.</param>
    /// <param name="cancellationToken">Cancels the set-up (the script is killed).</param>
    public static async Task<(IReadOnlyDictionary<string, string> Values, TimeSpan Elapsed)> RunOnceAsync(
        string script, string purpose, Action<string>? log, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(script);
        var key = Path.GetFullPath(script);
        await RunLock.WaitAsync(cancellationToken);
        try
        {
            if (Done.TryGetValue(key, out var done))
                return done;
            if (!File.Exists(key))
                throw new FileNotFoundException($"set-up script not found at {key}.", key);
            var stopwatch = Stopwatch.StartNew();
            var result = await ScriptRunner.RunAsync("bash", [key], TimeSpan.FromMinutes(30), standardErrorLine: log, cancellationToken: cancellationToken);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{Path.GetFileName(key)} failed (exit {result.ExitCode}) setting up {purpose}. Its output:\n{ScriptRunner.Tail(result.StandardError, 40)}");
            }
            done = (ScriptRunner.ParseKeyValues(result.StandardOutput), stopwatch.Elapsed);
            Done[key] = done;
            return done;
        }
        finally
        {
            RunLock.Release();
        }
    }

    /// <summary>The value of <paramref name="key"/>, or an error naming the script that did not print it.</summary>
    public static string Require(IReadOnlyDictionary<string, string> values, string script, string key) =>
        values.TryGetValue(key, out var value)
            ? value
            : throw new InvalidOperationException($"{script} printed no {key}");
}
