using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Benchmarks.Doorbells;

namespace ShadowIo.Runtime.Tests.Harness;

/// <summary>The benchmark's own checks hold (counts, not timing: speed is the benchmark's business).</summary>
public sealed class DoorbellWriteBenchmarkTests
{
    [Fact]
    public void Every_mode_runs_every_write_and_only_trap_exits_per_write()
    {
        RequireKvm.Present();

        var report = DoorbellWriteBenchmark.Run(writes: 1000, rounds: 2);

        Assert.Equal(1000, report.Writes);
        Assert.Equal(["trap", "ioeventfd", "guest-store"], report.Modes.Select(m => m.Mode.Name()));
        Assert.Equal(1001, report[DoorbellWriteMode.Trap].UserspaceExits);
        Assert.Equal(1, report[DoorbellWriteMode.IoEventFd].UserspaceExits);
        Assert.Equal(1, report[DoorbellWriteMode.GuestStore].UserspaceExits);
        Assert.All(report.Modes, m => Assert.True(m.NanosecondsPerWrite > 0 && double.IsFinite(m.NanosecondsPerWrite)));
    }
}
