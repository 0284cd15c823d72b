using System.Diagnostics;
using Xunit;

namespace ShadowIo.Fuzz.Tests;

/// <summary>
/// <c>shadowio-fuzz property</c>, the NVMe controller's property run from the command line (it was
/// the demo's <c>fuzz</c> verb), run as a user runs it: the program copied beside the tests, as a
/// child process. In the corpus replay's collection: its pipes must not appear while the vfio-user
/// targets count fds.
/// </summary>
[Collection(CorpusReplayTests.FdAccounting)]
public sealed class PropertyVerbTests
{
    [Fact]
    public void A_short_run_checks_every_input_and_reports_no_failure()
    {
        var (exitCode, output, errors) = Run("property", "--inputs", "2000", "--seed", "7");

        Assert.True(exitCode == 0, output + errors);
        Assert.Matches(@"inputs tried\s+2,000\b", output);
        Assert.Matches(@"completions checked\s+[1-9]", output);
        Assert.Matches(@"failures\s+0\b", output);
    }

    [Fact]
    public void One_episode_replays_from_its_seed()
    {
        var (exitCode, output, errors) = Run("property", "--episode", "1000003");

        Assert.True(exitCode == 0, output + errors);
        Assert.Matches(@"episodes\s+1\b", output);
    }

    [Theory]
    [InlineData("--inputs 0", "--inputs must be at least 1")]
    [InlineData("--inputs lots", "Cannot parse argument 'lots' for option '--inputs'")]
    [InlineData("--frobnicate", "Unrecognized command or argument '--frobnicate'")]
    public void Invalid_options_are_one_line_and_exit_code_2(string arguments, string expected)
    {
        var (exitCode, output, errors) = Run(["property", .. arguments.Split(' ')]);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("shadowio-fuzz: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
        Assert.Equal("", output);
    }

    private static (int ExitCode, string Output, string Errors) Run(params string[] arguments)
    {
        string program = Path.Combine(AppContext.BaseDirectory, "shadowio-fuzz.dll");
        Assert.True(File.Exists(program), $"{program} is missing: the test project copies the fuzz program beside itself.");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(program);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"shadowio-fuzz {string.Join(' ', arguments)} did not finish in two minutes.");
        }
        return (process.ExitCode, output.GetAwaiter().GetResult(), errors.GetAwaiter().GetResult());
    }
}
