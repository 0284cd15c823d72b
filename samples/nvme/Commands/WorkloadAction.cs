using ShadowIo.Kvm;
using ShadowIo.Samples.Nvme.Guest;
using Spectre.Console;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>Runs the workload in each requested mode and prints the table or the JSON.</summary>
internal static class WorkloadAction
{
    public static int Run(WorkloadOptions options)
    {
        options.CheckBackingFile();
        using var kvm = KvmSystem.Open(options.KvmDevice);
        var settings = new WorkloadSettings
        {
            Blocks = options.Blocks,
            QueueDepth = options.QueueDepth,
            Rounds = options.Rounds,
            BackingFile = options.BackingFile,
            Transport = options.Transport,
        };
        var results = ProgressDisplay.Run(options.Modes, progress =>
        {
            var list = new List<ModeResult>();
            foreach (var mode in options.Modes)
            {
                var result = NvmeWorkload.Run(kvm, mode, settings, progress);
                progress.Finished(result);
                list.Add(result);
            }
            return list;
        });

        if (options.Json)
        {
            using var stdout = Console.OpenStandardOutput();
            JsonReport.Write(stdout, results, options);
        }
        else
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            // Redirected output has no terminal width; Spectre would assume 80 and wrap every cell.
            if (Console.IsOutputRedirected) console.Profile.Width = 160;
            ResultTable.Write(console, results, options);
        }
        // A mode that ran but read back wrong data is a failure of the demo, not a footnote.
        return results.All(r => !r.Supported || r.Verified) ? 0 : 1;
    }
}
