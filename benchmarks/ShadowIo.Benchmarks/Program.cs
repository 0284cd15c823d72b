using BenchmarkDotNet.Running;
using ShadowIo.Benchmarks;
using ShadowIo.Benchmarks.Doorbells;
using ShadowIo.Benchmarks.VfioUser;

if (args is ["cpu-time", ..])
{
    CpuTimeReport.Run();
    return 0;
}
// -- doorbells [--writes N] [--rounds R] [--kvm PATH] [--json]: ns per guest doorbell write on /dev/kvm.
if (args is [DoorbellsCommand.Name, ..]) return DoorbellsCommand.Run(args);
// -- vfio-user-device SOCKET: the device process of the out-of-process doorbell runs (spawned by them and by tests).
if (args is [DoorbellDeviceCommand.Name, ..]) return DoorbellDeviceCommand.Run(args);

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
