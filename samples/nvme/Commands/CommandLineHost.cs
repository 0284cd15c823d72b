using System.CommandLine;
using ShadowIo.Kvm;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>
/// Parses the command line and runs the chosen verb. Every failure a user can meet — a bad
/// option, no /dev/kvm, no permission, an unusable backing file — ends as one line on stderr and
/// a nonzero exit code, never a stack trace.
/// </summary>
internal static class CommandLineHost
{
    public const string ProgramName = "shadowio-nvme";

    /// <summary>Exit code for options the parser or a validator rejected.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for an environment or run-time failure.</summary>
    public const int Failure = 1;

    public static int Run(string[] args, TextWriter? error = null)
    {
        error ??= Console.Error;
        var root = WorkloadCommand.Create();
        foreach (var verb in Verbs.Create()) root.Add(verb);

        ParseResult parsed;
        try
        {
            parsed = root.Parse(args);
        }
        catch (InvalidOperationException e)
        {
            // A verb's validator that reads a value the parser could not convert throws here.
            error.WriteLine($"{ProgramName}: {OneLine(e.Message)} (see --help)");
            return UsageError;
        }
        if (parsed.Errors.Count > 0)
        {
            // The parser's messages are single sentences; its default action would add the whole help.
            error.WriteLine($"{ProgramName}: {OneLine(parsed.Errors[0].Message)} (see --help)");
            return UsageError;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            error.WriteLine($"{ProgramName}: {Describe(e)}");
            if (Environment.GetEnvironmentVariable("SHADOWIO_TRACE") == "1") error.WriteLine(e);
            return e is UserErrorException { InnerException: null } ? UsageError : Failure;
        }
    }

    /// <summary>The line a user sees for <paramref name="e"/>.</summary>
    internal static string Describe(Exception e) => e switch
    {
        UserErrorException or KvmException or Guest.WorkloadException => OneLine(e.Message),
        UnauthorizedAccessException or IOException => OneLine(e.Message),
        ShadowIo.Testing.GuestExitException => $"the guest could not run on this KVM: {OneLine(e.Message)}",
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerExceptions[0]),
        _ => $"unexpected {e.GetType().Name}: {OneLine(e.Message)} (set SHADOWIO_TRACE=1 for the stack trace)",
    };

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
