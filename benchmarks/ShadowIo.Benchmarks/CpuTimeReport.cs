using System.Diagnostics;
using System.Globalization;

namespace ShadowIo.Benchmarks;

/// <summary>
/// `-- cpu-time`: the generator's cold run on the 1000-register block measured in process CPU
/// time as well as wall time. On a machine shared with other builds, wall time mostly measures
/// waiting for a core; CPU time shows what the generator itself costs.
/// </summary>
public static class CpuTimeReport
{
    public static void Run(int rounds = 15)
    {
        var benchmark = new GeneratorBenchmarks();
        benchmark.Setup();
        using Process process = Process.GetCurrentProcess();
        var cpu = new List<double>();
        var wall = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            benchmark.FreshCompilation();
            process.Refresh();
            TimeSpan cpuStart = process.TotalProcessorTime;
            var stopwatch = Stopwatch.StartNew();
            benchmark.GeneratorOn1000Registers();
            stopwatch.Stop();
            process.Refresh();

            // The first two rounds pay for JIT; they are reported but not in the median.
            double cpuMs = (process.TotalProcessorTime - cpuStart).TotalMilliseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round,2}: cpu {cpuMs,7:F1} ms, wall {stopwatch.Elapsed.TotalMilliseconds,7:F1} ms"));
            if (round >= 2)
            {
                cpu.Add(cpuMs);
                wall.Add(stopwatch.Elapsed.TotalMilliseconds);
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"generator cold run, {GeneratorBenchmarks.RegisterCount} registers: median cpu {Median(cpu):F1} ms, median wall {Median(wall):F1} ms (load average {LoadAverage()})"));
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count == 0 ? 0 : values[values.Count / 2];
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
}
