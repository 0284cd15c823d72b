using BenchmarkDotNet.Running;
using ShadowIo.Benchmarks;
using ShadowIo.Benchmarks.Doorbells;

if (args is ["cpu-time", ..])
{
    CpuTimeReport.Run();
    return 0;
}
// -- doorbells [--writes N] [--rounds R] [--kvm PATH] [--json]: ns per guest doorbell write on /dev/kvm.
if (args is [DoorbellsCommand.Name, ..]) return DoorbellsCommand.Run(args);

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
