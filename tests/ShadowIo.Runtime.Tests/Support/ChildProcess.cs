using System.Diagnostics;

namespace ShadowIo.Runtime.Tests.Support;

/// <summary>Runs a helper program (gcc, python, od) with a bound on how long the test waits for it.</summary>
internal static class ChildProcess
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    public static (int ExitCode, string Output, string Errors) Run(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        // Both pipes drain while we wait: a child blocked on a full pipe would otherwise never exit.
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Patience))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{start.FileName} {start.Arguments}{string.Join(' ', start.ArgumentList)} did not exit within {Patience.TotalMinutes} minutes");
        }
        return (process.ExitCode, output.GetAwaiter().GetResult(), errors.GetAwaiter().GetResult());
    }
}
