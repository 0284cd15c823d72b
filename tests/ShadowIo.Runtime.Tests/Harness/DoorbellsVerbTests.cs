using System.Diagnostics;
using System.Text.Json;
using ShadowIo.Runtime.Tests.Support;

namespace ShadowIo.Runtime.Tests.Harness;

/// <summary>
/// The seed's benchmark as a user runs it, <c>dotnet run -c Release --project
/// benchmarks/ShadowIo.Benchmarks -- doorbells</c>: the program (copied beside the tests) as a
/// child process. Counts and shape only; the timings are the benchmark's business.
/// </summary>
public sealed class DoorbellsVerbTests
{
    [Fact]
    public void Json_output_has_every_mode_and_transport_with_its_exits()
    {
        RequireKvm.Present();

        var (exitCode, output, errors) = Run("doorbells", "--writes", "1000", "--rounds", "1", "--json");

        Assert.True(exitCode == 0, errors);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(1000, json.RootElement.GetProperty("writes").GetInt32());
        var modes = json.RootElement.GetProperty("modes").EnumerateArray().ToArray();
        // In process, then the device in another process over vfio-user, in the same run.
        Assert.Equal(["in-process trap", "in-process ioeventfd", "in-process guest-store", "vfio-user trap", "vfio-user shadow-trap", "vfio-user ioeventfd"],
            modes.Select(m => $"{m.GetProperty("transport").GetString()} {m.GetProperty("mode").GetString()}"));
        Assert.Equal([1001, 1, 1, 1001, 1001, 1], modes.Select(m => m.GetProperty("userspace_exits").GetInt64()));
        Assert.All(modes, m => Assert.True(m.GetProperty("ns_per_write").GetDouble() > 0));
    }

    [Theory]
    [InlineData("--writes lots", "Cannot parse argument 'lots' for option '--writes'")]
    [InlineData("--writes 0", "--writes 0 is outside 1..100000000")]
    [InlineData("--rounds 1000", "--rounds 1000 is outside 1..100")]
    public void Invalid_option_values_are_one_line_and_exit_code_2(string arguments, string expected)
    {
        var (exitCode, output, errors) = Run(["doorbells", .. arguments.Split(' ')]);

        Assert.Equal(2, exitCode);
        AssertOneLine(output, errors, expected);
    }

    [Fact]
    public void A_missing_kvm_device_is_one_line_and_exit_code_1()
    {
        var (exitCode, output, errors) = Run("doorbells", "--kvm", "/dev/no-such-kvm", "--writes", "10", "--rounds", "1");

        Assert.Equal(1, exitCode);
        AssertOneLine(output, errors, "/dev/no-such-kvm does not exist: KVM is not available here");
    }

    private static void AssertOneLine(string output, string errors, string expected)
    {
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("doorbells: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
        Assert.Equal("", output);
    }

    private static (int ExitCode, string Output, string Errors) Run(params string[] arguments)
    {
        string program = Path.Combine(AppContext.BaseDirectory, "ShadowIo.Benchmarks.dll");
        Assert.True(File.Exists(program), $"{program} is missing: the test project copies the benchmarks program beside itself.");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        start.ArgumentList.Add(program);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return ChildProcess.Run(start);
    }
}
