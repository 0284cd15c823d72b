using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using ShadowIo.Kvm;
using ShadowIo.Testing;


namespace ShadowIo.Benchmarks.Doorbells;

/// <summary>
/// <c>-- doorbells</c>: the seed's benchmark. A CPL3 guest writes N times to a trap-mode
/// doorbell, N times to an ioeventfd-bound one and N times to a plain guest-memory word; prints
/// ns per write per mode and the ratios, or with <c>--json</c>
/// <c>{"writes": N, "modes": [{"mode": ..., "transport": ..., "ns_per_write": x, "userspace_exits": n}]}</c>.
/// Then the same loop against a device in another process over vfio-user
/// (<see cref="VfioUserDoorbellBenchmark"/>: trap, shadow-trap, ioeventfd), in the same run.
/// Compare with <c>gcc -O2 kvm-doorbell-anchor.c</c>, which measures the same loop in raw C.
/// </summary>
internal static class DoorbellsCommand
{
    public const string Name = "doorbells";
    public const int DefaultWrites = 100_000, MaxWrites = 100_000_000;
    public const int DefaultRounds = 5, MaxRounds = 100;

    /// <summary>Exit codes: a rejected option, and a KVM or guest failure (each one line on stderr, no stack trace).</summary>
    private const int UsageError = 2, Failure = 1;

    /// <summary>Parses <paramref name="args"/> (starting with <see cref="Name"/>) and runs the benchmark.</summary>
    public static int Run(string[] args)
    {
        var root = new RootCommand("ShadowIo benchmarks") { Create() };
        var parsed = root.Parse(args);
        // The parser's messages are single sentences; its default action would add the whole help.
        if (parsed.Errors.Count > 0) return Fail(UsageError, $"{parsed.Errors[0].Message} (see {Name} --help)");
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (KvmException e)
        {
            return Fail(Failure, e.Message);
        }
        catch (GuestExitException e)
        {
            return Fail(Failure, $"the guest could not run on this KVM: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // A round's own check failed (writes lost, wrong signal count, wrong shadow value), or the device process did.
            return Fail(Failure, e.Message);
        }
        catch (IOException e)
        {
            // The vfio-user link to the device process (VfioUserException is one).
            return Fail(Failure, $"vfio-user: {e.Message}");
        }
    }

    private static int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine($"{Name}: {string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}");
        return exitCode;
    }

    public static Command Create()
    {
        var writes = new Option<int>("--writes", "-n")
        {
            Description = $"Guest writes per mode and round (1..{MaxWrites}).",
            DefaultValueFactory = _ => DefaultWrites,
            HelpName = "count",
        };
        writes.Validators.Add(result => InRange(result, "--writes", 1, MaxWrites));
        var rounds = new Option<int>("--rounds")
        {
            Description = $"Rounds per mode; the best is reported, as the C yardstick does (1..{MaxRounds}).",
            DefaultValueFactory = _ => DefaultRounds,
            HelpName = "count",
        };
        rounds.Validators.Add(result => InRange(result, "--rounds", 1, MaxRounds));
        var kvmDevice = new Option<string>("--kvm")
        {
            Description = "The KVM device node to open.",
            DefaultValueFactory = _ => KvmSystem.DefaultPath,
            HelpName = "path",
        };
        var json = new Option<bool>("--json") { Description = "Print {\"writes\", \"modes\": [{\"mode\", \"transport\", \"ns_per_write\", \"userspace_exits\"}]} on stdout." };

        var command = new Command(Name,
            "The seed's demo: ns per guest doorbell write when trapped, when bound to an ioeventfd, and for a plain guest-memory store; in process, and with the device in another process over vfio-user.")
        {
            writes, rounds, kvmDevice, json,
        };
        command.SetAction(parsed =>
        {
            int n = parsed.GetValue(writes), r = parsed.GetValue(rounds);
            string kvm = parsed.GetValue(kvmDevice)!;
            var inProcess = DoorbellWriteBenchmark.Run(n, r, kvm);
            // The same loop with the device in another process, in the same run.
            var report = inProcess with { Modes = [.. inProcess.Modes, .. VfioUserDoorbellBenchmark.Run(n, r, kvm)] };
            if (parsed.GetValue(json)) WriteJson(Console.Out, report);
            else WriteTable(Console.Out, report);
            return 0;
        });
        return command;
    }

    internal static void WriteTable(TextWriter output, DoorbellWriteReport report)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.Writes} guest writes per mode, best of {report.Rounds} rounds"));
        output.WriteLine($"{"transport",-11} {"mode",-12} {"ns/write",12} {"userspace exits",16}");
        foreach (var m in report.Modes)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.Transport.Name(),-11} {m.Mode.Name(),-12} {m.NanosecondsPerWrite,12:F1} {m.UserspaceExits,16}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio trap/ioeventfd {report.TrapOverIoEventFd:F2}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio ioeventfd/guest-store {report.IoEventFdOverGuestStore:F0}"));
        if (!report.HasVfioUser) return;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio vfio-user trap/ioeventfd {report.VfioUserTrapOverIoEventFd:F2}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio vfio-user ioeventfd/in-process ioeventfd {report.VfioUserIoEventFdOverInProcess:F2}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio vfio-user trap/in-process trap {report.VfioUserTrapOverInProcessTrap:F2}"));
    }

    internal static void WriteJson(TextWriter output, DoorbellWriteReport report)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("writes", report.Writes);
            json.WriteStartArray("modes");
            foreach (var m in report.Modes)
            {
                json.WriteStartObject();
                json.WriteString("mode", m.Mode.Name());
                json.WriteString("transport", m.Transport.Name());
                json.WriteNumber("ns_per_write", Math.Round(m.NanosecondsPerWrite, 2));
                json.WriteNumber("userspace_exits", m.UserspaceExits);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void InRange(OptionResult result, string name, int min, int max)
    {
        // A token that is not a number is the parser's own error to report.
        if (result.Tokens.Count == 0 || !int.TryParse(result.Tokens[^1].Value, CultureInfo.InvariantCulture, out int value)) return;
        if (value < min || value > max)
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} {value} is outside {min}..{max}."));
    }
}
