using System.Diagnostics;
using System.Text.RegularExpressions;
using ShadowIo.Samples.Nvme.Commands;
using Xunit;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// <c>shadowio-nvme --transport vfio-user</c>, run as a user runs it, loses its device process
/// mid-run (SIGKILL, as the OOM killer or a user would): the program exits nonzero within a
/// bounded time, its stderr ends with one line naming the device process and its exit, there is
/// no stack trace, and nothing it started is left running (nor the socket's directory).
/// </summary>
public sealed class DeviceProcessDeathTests
{
    /// <summary>Bounds only a hang or a stuck start: the guest's completion timeout (~10 s) is what the end normally takes.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    /// <summary>trap: the I/O doorbells trap to this process; eventidx: the device process polls the guest's shadow page.</summary>
    [Theory]
    [InlineData("trap")]
    [InlineData("eventidx")]
    public async Task Killing_the_device_process_mid_run_ends_the_program_with_one_line_naming_it(string mode)
    {
        RequireKvm.Present();
        // More rounds than any run under test here finishes before the kill.
        using var sample = Process.Start(DemoProgram.StartInfo("--transport", "vfio-user", "--mode", mode, "--rounds", "100"))!;
        var stdout = sample.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var lines = new List<string>();
        var ioStarted = new ManualResetEventSlim();
        var stderr = Task.Run(() =>
        {
            while (sample.StandardError.ReadLine() is { } line)
            {
                lock (lines) lines.Add(line);
                if (line.Contains(": writing ", StringComparison.Ordinal)) ioStarted.Set();
            }
        }, TestContext.Current.CancellationToken);
        int[] started = [];
        try
        {
            Assert.True(ioStarted.Wait(Patience, TestContext.Current.CancellationToken),
                $"the run did not reach its I/O phase within {Patience.TotalSeconds} s: {string.Join(" | ", Snapshot(lines))}");
            started = ProcessTree.Descendants(sample.Id);
            int device = Assert.Single(started, pid => ProcessTree.CommandLine(pid).Contains($" {NvmeDeviceCommand.Name} ", StringComparison.Ordinal));
            // Its arguments: VERB SOCKET …, the socket in a directory of its own.
            string socketDirectory = Path.GetDirectoryName(ProcessTree.CommandLine(device).Split(' ')[2])!;
            Assert.True(Directory.Exists(socketDirectory), socketDirectory);

            using (var victim = Process.GetProcessById(device)) victim.Kill();

            Assert.True(sample.WaitForExit(Patience), $"shadowio-nvme still runs {Patience.TotalSeconds} s after its device process {device} was killed.");
            await stderr.WaitAsync(Patience, TestContext.Current.CancellationToken);
            Assert.Equal(CommandLineHost.Failure, sample.ExitCode);
            string[] errors = Snapshot(lines);
            Assert.Matches($"^{CommandLineHost.ProgramName}: the vfio-user device process {device} exited with code 137(: .+)?$", errors[^1]);
            Assert.DoesNotContain(errors, line => Regex.IsMatch(line, @"^\s+at |Exception|SHADOWIO_TRACE"));
            Assert.Equal("", await stdout);
            foreach (int pid in started)
                Assert.True(ProcessTree.Ends(pid, Patience), $"process {pid} ({ProcessTree.CommandLine(pid)}) outlived shadowio-nvme.");
            Assert.False(Directory.Exists(socketDirectory), $"{socketDirectory} was left behind.");
        }
        finally
        {
            if (!sample.HasExited) sample.Kill(entireProcessTree: true);
            foreach (int pid in started)
            {
                try
                {
                    using var left = Process.GetProcessById(pid);
                    left.Kill();
                }
                catch (ArgumentException)
                {
                    // Gone, as it should be.
                }
            }
        }
    }

    private static string[] Snapshot(List<string> lines)
    {
        lock (lines) return [.. lines];
    }
}
