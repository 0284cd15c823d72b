using System.Diagnostics;
using Xunit;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>Runs the demo program (shadowio-nvme) as a child process, as a user would.</summary>
internal static class DemoProgram
{
    public sealed record Outcome(int ExitCode, string StandardOutput, string StandardError)
    {
        public string[] ErrorLines => StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static Outcome Run(params string[] arguments)
    {
        using var process = Process.Start(StartInfo(arguments))!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"shadowio-nvme {string.Join(' ', arguments)} did not finish in two minutes.");
        }
        return new Outcome(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>How to start it with <paramref name="arguments"/>, stdout and stderr redirected, as a user's shell would (no SHADOWIO_TRACE).</summary>
    public static ProcessStartInfo StartInfo(params string[] arguments)
    {
        string program = Path.Combine(AppContext.BaseDirectory, "shadowio-nvme.dll");
        Assert.True(File.Exists(program), $"{program} is missing: the test project copies the demo program beside itself.");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(program);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment.Remove("SHADOWIO_TRACE");
        return start;
    }
}
