using BenchmarkDotNet.Attributes;

namespace ShadowIo.Benchmarks;

/// <summary>
/// Generated MMIO dispatch and typed field accessors, uncontended: what the vCPU thread pays per
/// register access once the exit reached the device, and the device thread per status update.
/// Every register update is one atomic read-modify-write (the register-block concurrency
/// contract, generator/docs/generated-api.md, "Threads"); nothing allocates. Offsets come from
/// fields and each invocation runs <see cref="Operations"/> accesses, so the JIT can neither fold
/// the dispatch switch nor hide a call in the harness's overhead; reported per access.
/// </summary>
[Config(typeof(ShortConfig))]
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private const int Operations = 1000;

    private readonly BenchmarkNvmeRegisters _registers = new();
    private readonly ulong _ccOffset = BenchmarkNvmeRegisters.CcOffset;
    private readonly ulong _cstsOffset = BenchmarkNvmeRegisters.CstsOffset;

    /// <summary>A guest CC write: the written bytes replace the register's, then the (empty) hook.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public void GuestWriteCc()
    {
        for (int i = 0; i < Operations; i++) _registers.WriteMmio(_ccOffset, 4, (ulong)i << 16);
    }

    /// <summary>A guest CSTS write: NSSRO written 1 (write-1-to-clear) or 0, RDY/CFS kept.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public void GuestWriteCsts()
    {
        for (int i = 0; i < Operations; i++) _registers.WriteMmio(_cstsOffset, 4, ((ulong)i & 1) << 4);
    }

    /// <summary>A guest CSTS read.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public ulong GuestReadCsts()
    {
        ulong sum = 0;
        for (int i = 0; i < Operations; i++) sum += _registers.ReadMmio(_cstsOffset, 4);
        return sum;
    }

    /// <summary>A device status update through the typed field setter.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public void DeviceSetCstsRdy()
    {
        for (int i = 0; i < Operations; i++) _registers.CstsRdy = (i & 1) != 0;
    }

    /// <summary>A device read of one field.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public int DeviceReadCcEn()
    {
        int set = 0;
        for (int i = 0; i < Operations; i++) set += _registers.CcEn ? 1 : 0;
        return set;
    }
}
