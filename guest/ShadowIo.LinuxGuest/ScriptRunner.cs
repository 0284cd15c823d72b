using System.Diagnostics;
using System.Text;

namespace ShadowIo.LinuxGuest;

/// <summary>Runs a host program to completion with a timeout, capturing both streams.</summary>
public static class ScriptRunner
{
    /// <summary>How the program ended and what it printed.</summary>
    /// <param name="ExitCode">The program's exit status.</param>
    /// <param name="StandardOutput">Everything it wrote to stdout.</param>
    /// <param name="StandardError">Everything it wrote to stderr.</param>
    /// <param name="Elapsed">From start to exit.</param>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed);

    /// <summary>Runs <paramref name="program"/> with stdin closed; kills it (and its children) past <paramref name="timeout"/>.</summary>
    /// <param name="program">Program name or path.</param>
    /// <param name="arguments">Its arguments, passed as they are.</param>
    /// <param name="timeout">Whole-run limit; a <see cref="TimeoutException"/> past it.</param>
    /// <param name="environment">Variables to set, or to remove when the value is null.</param>
    /// <param name="standardErrorLine">Receives stderr line by line as it arrives (progress), besides <see cref="Result.StandardError"/>.</param>
    /// <param name="cancellationToken">Kills the program and throws.</param>
    public static async Task<Result> RunAsync(
        string program,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null,
        Action<string>? standardErrorLine = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                if (value is null)
                    info.Environment.Remove(key);
                else
                    info.Environment[key] = value;
            }
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = standardErrorLine is null
            ? process.StandardError.ReadToEndAsync(cancellationToken)
            : ReadLinesAsync(process.StandardError, standardErrorLine, cancellationToken);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException(
                $"{program} {string.Join(' ', arguments)} did not finish within {timeout}; its output:\n{Tail(await stderr, 40)}");
        }
        return new Result(process.ExitCode, await stdout, await stderr, stopwatch.Elapsed);
    }

    /// <summary>The <c>KEY=value</c> lines of a script's output (other lines are ignored).</summary>
    public static Dictionary<string, string> ParseKeyValues(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
                values[line[..eq]] = line[(eq + 1)..];
        }
        return values;
    }

    /// <summary>The last <paramref name="lines"/> lines of <paramref name="text"/>, for error messages.</summary>
    public static string Tail(string text, int lines)
    {
        ArgumentNullException.ThrowIfNull(text);
        var all = text.Split('\n');
        var builder = new StringBuilder();
        foreach (var line in all.Skip(Math.Max(0, all.Length - lines)))
            builder.Append(line).Append('\n');
        return builder.ToString();
    }

    private static async Task<string> ReadLinesAsync(StreamReader reader, Action<string> line, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } next)
        {
            text.Append(next).Append('\n');
            line(next);
        }
        return text.ToString();
    }
}
