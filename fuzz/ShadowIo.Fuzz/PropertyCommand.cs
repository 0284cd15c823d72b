using ShadowIo.Fuzz.Nvme;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace ShadowIo.Fuzz;

/// <summary>
/// <c>fuzz</c>: issue 5's long property run over the NVMe controller, driven from C# without KVM.
/// Hostile submission entries, doorbell values, register writes, queue create/delete parameters,
/// Doorbell Buffer Config addresses and resets mid-I/O, with every invariant checked after each
/// input (see <see cref="FuzzEpisode"/>). Prints the counts; exits 1 if any invariant failed.
/// </summary>
internal static class FuzzCommand
{
    public static Command Create()
    {
        var inputs = new Option<long>("--inputs")
        {
            Description = "Fuzz inputs to try (each a submission batch, admin command, doorbell, register write, reset, poll or CQ update).",
            DefaultValueFactory = _ => 1_000_000,
            HelpName = "count",
        };
        inputs.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<long>() < 1) result.AddError("--inputs must be at least 1.");
        });
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the run; episode i uses seed × 1000003 + i, printed with any failure.",
            DefaultValueFactory = _ => 1,
            HelpName = "n",
        };
        var episode = new Option<int?>("--episode")
        {
            Description = "Replay one episode by its episode seed (as printed with a failure) instead of a run.",
            HelpName = "episode-seed",
        };

        var command = new Command("fuzz", "Property-test the NVMe controller with hostile guest input (no KVM needed) and print the counts.")
        {
            inputs, seed, episode,
        };
        command.SetAction(parsed =>
        {
            var clock = Stopwatch.StartNew();
            FuzzReport report;
            if (parsed.GetValue(episode) is int episodeSeed)
            {
                report = ControllerFuzzer.RunEpisode(episodeSeed);
            }
            else
            {
                long total = parsed.GetValue(inputs);
                report = ControllerFuzzer.Run(total, parsed.GetValue(seed), progress: r =>
                    Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{r.Inputs:N0} / {total:N0} inputs, {r.FailureCount} failures")));
                Console.Error.WriteLine();
            }
            Console.Write(report.ToString());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"elapsed                 {clock.Elapsed.TotalSeconds,12:F1} s"));
            return report.FailureCount == 0 ? 0 : 1;
        });
        return command;
    }
}
