using ShadowIo.Fuzz.Nvme;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace ShadowIo.Fuzz;

/// <summary>
/// <c>shadowio-fuzz property</c>: issue 5's long property run over the NVMe controller, driven from
/// C# without KVM or AFL. Hostile submission entries, doorbell values, register writes, queue
/// create/delete parameters, Doorbell Buffer Config addresses and resets mid-I/O, with every
/// invariant checked after each input (see <c>FuzzEpisode</c> in ShadowIo.Fuzz.Nvme). Prints the
/// counts; exits 1 if any invariant failed, 2 (one line on stderr) for a bad option.
/// </summary>
internal static class PropertyCommand
{
    public const string Name = "property";

    /// <summary>Exit code for options the parser or a validator rejected.</summary>
    private const int UsageError = 2;

    /// <summary>Parses <paramref name="args"/> (starting with <see cref="Name"/>) and runs the property fuzzer.</summary>
    public static int Run(string[] args)
    {
        var root = new RootCommand("ShadowIo fuzz targets") { Create() };
        ParseResult parsed;
        try
        {
            parsed = root.Parse(args);
        }
        catch (InvalidOperationException e)
        {
            // The --inputs validator reads a value the parser could not convert: it throws here.
            return UsageFailure(e.Message);
        }
        // The parser's messages are single sentences; its default action would add the whole help.
        if (parsed.Errors.Count > 0) return UsageFailure(parsed.Errors[0].Message);
        return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static int UsageFailure(string message)
    {
        Console.Error.WriteLine($"shadowio-fuzz: {string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))} (see {Name} --help)");
        return UsageError;
    }

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

        var command = new Command(Name, "Property-test the NVMe controller with hostile guest input (no KVM needed) and print the counts.")
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
