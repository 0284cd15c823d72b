using ShadowIo.Samples.Nvme.Guest;
using Spectre.Console;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>
/// Shows the workload's progress on stderr (stdout stays clean for the table or JSON): a live
/// Spectre progress display on a terminal, one plain line per step otherwise.
/// </summary>
internal static class ProgressDisplay
{
    public static IReadOnlyList<ModeResult> Run(IReadOnlyList<WorkloadMode> modes, Func<IWorkloadProgress, IReadOnlyList<ModeResult>> work)
    {
        if (Console.IsErrorRedirected)
            return work(new PlainLines(Console.Error));

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        IReadOnlyList<ModeResult> results = [];
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var tasks = modes.ToDictionary(m => m, m => context.AddTask(m.Name(), autoStart: false, maxValue: 1));
                results = work(new LiveTasks(tasks));
            });
        return results;
    }

    private sealed class LiveTasks(Dictionary<WorkloadMode, ProgressTask> tasks) : IWorkloadProgress
    {
        public void Step(WorkloadMode mode, int step, int steps, string description)
        {
            var task = tasks[mode];
            if (!task.IsStarted) task.StartTask();
            task.MaxValue = steps;
            task.Value = step;
            task.Description = $"{mode.Name()}: {Markup.Escape(description)}";
        }

        public void Finished(ModeResult result)
        {
            var task = tasks[result.Mode];
            task.Description = result.Supported
                ? $"{result.Mode.Name()}: {(result.Verified ? "[green]verified[/]" : "[red]verification failed[/]")}"
                : $"{result.Mode.Name()}: [yellow]unsupported[/]";
            task.Value = task.MaxValue;
            task.StopTask();
        }
    }

    private sealed class PlainLines(TextWriter writer) : IWorkloadProgress
    {
        public void Step(WorkloadMode mode, int step, int steps, string description) =>
            writer.WriteLine($"[{mode.Name()}] {step + 1}/{steps} {description}");

        public void Finished(ModeResult result) =>
            writer.WriteLine(result.Supported
                ? $"[{result.Mode.Name()}] done: {result.Ios} I/Os, data {(result.Verified ? "verified" : "NOT verified")}"
                : $"[{result.Mode.Name()}] unsupported: {result.UnsupportedReason}");
    }
}
