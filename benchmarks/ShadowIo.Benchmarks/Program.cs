using BenchmarkDotNet.Running;
using ShadowIo.Benchmarks;

if (args is ["cpu-time", ..])
{
    CpuTimeReport.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
