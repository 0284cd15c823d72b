using System.Text.Json;
using Xunit;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>The demo program itself, run as a user runs it, on the real /dev/kvm.</summary>
public sealed class ProgramRunTests
{
    [Fact]
    public void Json_output_lists_every_mode_with_the_documented_fields_and_verified_data()
    {
        RequireKvm.Present();

        var outcome = DemoProgram.Run("--json", "--blocks", "32", "--rounds", "1");

        Assert.True(outcome.ExitCode == 0, outcome.StandardError);
        using var json = JsonDocument.Parse(outcome.StandardOutput);
        var modes = json.RootElement.GetProperty("modes").EnumerateArray().ToArray();
        Assert.Equal(["trap", "ioeventfd", "eventidx", "post-write"], modes.Select(m => m.GetProperty("mode").GetString()));
        foreach (var mode in modes)
        {
            foreach (var field in (string[])["ios", "verified", "doorbell_writes", "userspace_exits", "iops_qd1", "iops_qd32"])
                Assert.True(mode.TryGetProperty(field, out _), $"{mode.GetProperty("mode")} lacks \"{field}\"");
            if (!mode.GetProperty("supported").GetBoolean())
            {
                Assert.False(string.IsNullOrEmpty(mode.GetProperty("reason").GetString()));
                continue;
            }
            Assert.Equal(4 * 32 + 2 * 8, mode.GetProperty("ios").GetInt64()); // both depths' writes and reads, then 8 PRP-list transfers each way
            Assert.True(mode.GetProperty("verified").GetBoolean());
            Assert.True(mode.GetProperty("iops_qd1").GetDouble() > 0);
            Assert.True(mode.GetProperty("iops_qd32").GetDouble() > 0);
        }
        // Progress went to stderr, so stdout parsed as JSON; it must have said something.
        Assert.Contains("[trap]", outcome.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Over_vfio_user_the_json_says_so_and_every_supported_mode_verifies()
    {
        RequireKvm.Present();

        var outcome = DemoProgram.Run("--json", "--transport", "vfio-user", "--blocks", "32", "--rounds", "1");

        Assert.True(outcome.ExitCode == 0, outcome.StandardError);
        using var json = JsonDocument.Parse(outcome.StandardOutput);
        Assert.Equal("vfio-user", json.RootElement.GetProperty("transport").GetString());
        var modes = json.RootElement.GetProperty("modes").EnumerateArray().ToArray();
        Assert.Equal(["trap", "ioeventfd", "eventidx", "post-write"], modes.Select(m => m.GetProperty("mode").GetString()));
        foreach (var mode in modes.Where(m => m.GetProperty("supported").GetBoolean()))
        {
            Assert.Equal(4 * 32 + 2 * 8, mode.GetProperty("ios").GetInt64());
            Assert.True(mode.GetProperty("verified").GetBoolean());
        }
        Assert.Equal(0, modes[1].GetProperty("userspace_exits").GetInt64()); // ioeventfd: the device process's eventfds, registered by our VMM
    }

    [Fact]
    public void The_table_names_every_column_and_mode()
    {
        RequireKvm.Present();

        var outcome = DemoProgram.Run("--blocks", "16", "--rounds", "2", "--mode", "eventidx", "--queue-depth", "8");

        Assert.True(outcome.ExitCode == 0, outcome.StandardError);
        foreach (var header in (string[])["mode", "I/Os", "data verified", "guest doorbell writes", "exits to userspace", "ns per doorbell", "IOPS QD1", "IOPS QD8"])
            Assert.Contains(header, outcome.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("eventidx", outcome.StandardOutput, StringComparison.Ordinal);
        var row = Assert.Single(outcome.StandardOutput.Split('\n'), line => line.Contains("eventidx", StringComparison.Ordinal) && line.Contains('│'));
        Assert.Contains(" yes ", row, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_the_options_and_the_linux_verb()
    {
        var outcome = DemoProgram.Run("--help");

        Assert.Equal(0, outcome.ExitCode);
        foreach (var word in (string[])["--backing-file", "--blocks", "--queue-depth", "--mode", "--transport", "--json", "linux"])
            Assert.Contains(word, outcome.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>
    /// The runtime's benchmark and the fuzzer live in their own programs now
    /// (benchmarks/ShadowIo.Benchmarks <c>doorbells</c>, shadowio-fuzz <c>property</c>): the demo
    /// rejects their old verbs as it rejects any unknown word, in one line.
    /// </summary>
    [Theory]
    [InlineData("doorbells")]
    [InlineData("fuzz")]
    public void The_moved_verbs_are_unknown_words(string verb)
    {
        var outcome = DemoProgram.Run(verb);

        Assert.Equal(2, outcome.ExitCode);
        var line = Assert.Single(outcome.ErrorLines);
        Assert.Contains($"Unrecognized command or argument '{verb}'", line, StringComparison.Ordinal);
    }
}
