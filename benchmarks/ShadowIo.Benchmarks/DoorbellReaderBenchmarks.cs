using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace ShadowIo.Benchmarks;

/// <summary>
/// The generated typed reader over a shadow page (issue 2 goal: ≤ 1 ns per read, 0 B allocated).
/// </summary>
[Config(typeof(ShortConfig))]
[MemoryDiagnoser]
public unsafe class DoorbellReaderBenchmarks
{
    private const int Queues = 64;
    private byte* _page;
    private BenchmarkNvmeRegisters.DoorbellReader _reader;
    private int _queue;

    [GlobalSetup]
    public void Setup()
    {
        _page = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
        NativeMemory.Clear(_page, 4096);
        var shadow = new ShadowRegion(_page, 4096);
        for (int y = 0; y < Queues; y++) shadow.WriteUInt32(8 * y, (uint)y);
        _reader = new BenchmarkNvmeRegisters.DoorbellReader(shadow);
        _queue = 17;
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.AlignedFree(_page);

    /// <summary>One SQ tail read, index from a field (as a controller's queue loop has it).</summary>
    [Benchmark(Baseline = true)]
    public uint SqTailRead() => _reader.SqTail(_queue);

    /// <summary>One single-doorbell read (a property: no index check).</summary>
    [Benchmark]
    public uint SingleDoorbellRead() => _reader.Spare;

    /// <summary>All 64 SQ tails and CQ heads per invocation; reported per read.</summary>
    [Benchmark(OperationsPerInvoke = 2 * Queues)]
    public uint ScanAllQueues()
    {
        uint sum = 0;
        for (int y = 0; y < Queues; y++) sum += _reader.SqTail(y) + _reader.CqHead(y);
        return sum;
    }
}
