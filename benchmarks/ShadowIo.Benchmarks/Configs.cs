using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;

namespace ShadowIo.Benchmarks;

/// <summary>
/// Short jobs: the machine's two cores are shared, so a full run must finish in minutes.
/// One launch, three warmups, seven measured iterations.
/// </summary>
public sealed class ShortConfig : ManualConfig
{
    public ShortConfig() =>
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(7).WithId("Short"));
}

/// <summary>
/// For operations of ~100 ms that need fresh state per invocation (a new compilation): one
/// invocation per iteration.
/// </summary>
public sealed class SingleInvocationConfig : ManualConfig
{
    public SingleInvocationConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(7)
            .WithInvocationCount(1).WithUnrollFactor(1).WithId("Steady"));

        // First runs in a fresh process: includes JIT of the generator and of Roslyn's binder.
        AddJob(Job.Default.WithStrategy(RunStrategy.ColdStart).WithLaunchCount(1).WithIterationCount(3).WithId("ColdStart"));
    }
}
