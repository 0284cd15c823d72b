using ShadowIo.Devices.Nvme;
using Xunit;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>What the host sees: media errors from its storage, its callbacks, and its mistakes.</summary>
public sealed class HostFacingTests
{
    private const ulong Data = NvmeTestHost.DataArea;

    [Fact]
    public void Storage_failures_become_media_error_statuses()
    {
        using var host = new NvmeTestHost(storage: new FailingStorage(1 << 20));
        host.Enable();
        var io = host.CreateIoQueuePair(1);
        Assert.Equal(NvmeStatus.UnrecoveredReadError, host.Execute(io, Commands.Io(IoOpcode.Read, 0, 1, Data)).Status);
        Assert.Equal(NvmeStatus.WriteFault, host.Execute(io, Commands.Io(IoOpcode.Write, 0, 1, Data)).Status);
        Assert.Equal(NvmeStatus.WriteFault, host.Execute(io, Commands.Io(IoOpcode.WriteZeroes, 0, 1, 0)).Status);
        Assert.Equal(NvmeStatus.WriteFault, host.Execute(io, Commands.Io(IoOpcode.Flush, 0, 1, 0)).Status);
    }

    [Fact]
    public void Interrupts_are_requested_on_the_vectors_of_queues_created_with_them()
    {
        using var host = new NvmeTestHost();
        var vectors = new List<int>();
        host.Controller.InterruptRequested = vectors.Add;
        host.Enable();
        Assert.Equal(NvmeStatus.Success, host.AdminCommand(Commands.CreateCq(1, 16, NvmeTestHost.IoCq(1), interrupts: true, vector: 5)).Status);
        Assert.Equal(NvmeStatus.Success, host.AdminCommand(Commands.CreateSq(1, 16, NvmeTestHost.IoSq(1), 1)).Status);
        var io = new HostQueue(1, NvmeTestHost.IoSq(1), 16, NvmeTestHost.IoCq(1), 16);
        host.Execute(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        Assert.Equal([0, 0, 5], vectors); // admin completions use vector 0
    }

    [Fact]
    public void Commands_rung_together_complete_under_one_interrupt()
    {
        using var host = new NvmeTestHost();
        var vectors = new List<int>();
        host.Enable();
        Assert.Equal(NvmeStatus.Success, host.AdminCommand(Commands.CreateCq(1, 16, NvmeTestHost.IoCq(1), interrupts: true, vector: 3)).Status);
        Assert.Equal(NvmeStatus.Success, host.AdminCommand(Commands.CreateSq(1, 16, NvmeTestHost.IoSq(1), 1)).Status);
        var io = new HostQueue(1, NvmeTestHost.IoSq(1), 16, NvmeTestHost.IoCq(1), 16);
        host.Controller.InterruptRequested = vectors.Add;
        long requestedBefore = host.Controller.Counters.InterruptsRequested;
        for (int i = 0; i < 5; i++) host.Submit(io, Commands.Io(IoOpcode.Read, (ulong)i, 1, Data));
        host.RingSq(io);
        // Five entries posted in one pass, then one interrupt: the driver's handler reaps them all.
        Assert.Equal([3], vectors);
        Assert.Equal(5, host.ReapAll(io).Count(c => c.Status == NvmeStatus.Success));
        Assert.Equal(requestedBefore + 1, host.Controller.Counters.InterruptsRequested);
        host.RingCq(io);
        host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        host.RingSq(io);
        Assert.Equal([3, 3], vectors);
    }

    [Fact]
    public void A_throwing_host_callback_is_counted_and_the_guest_is_still_served()
    {
        using var host = new NvmeTestHost();
        host.Controller.InterruptRequested = _ => throw new InvalidOperationException("host bug");
        host.Controller.DoorbellBufferConfigured = _ => throw new InvalidOperationException("host bug");
        host.Enable();
        Assert.Equal(NvmeStatus.Success, host.AdminCommand(Commands.DoorbellBufferConfig(NvmeTestHost.RamBase + 0x30_0000, NvmeTestHost.RamBase + 0x30_1000)).Status);
        Assert.True(host.Controller.Counters.HostCallbackErrors >= 2);
        Assert.Equal(0, host.Controller.Counters.InternalErrors);
        Assert.True(host.Ready);
    }

    [Fact]
    public void Host_errors_are_reported_to_the_host_with_exceptions()
    {
        using var host = new NvmeTestHost();
        Assert.Throws<ArgumentException>(() => host.Controller.DoorbellSource = default);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NvmeController(host.Ram.Memory, host.Storage, new NvmeControllerOptions { LbaShift = 10 }));
        using var tiny = new MemoryBlockStorage(100);
        Assert.Throws<ArgumentException>(() => new NvmeController(host.Ram.Memory, tiny));
        Assert.ThrowsAny<IOException>(() => FileBlockStorage.Open(Path.Combine(Path.GetTempPath(), $"missing-{Guid.NewGuid():N}.img")));
    }

    private sealed class FailingStorage(long length) : IBlockStorage
    {
        public long Length { get; } = length;
        public bool TryRead(long offset, Span<byte> destination) => false;
        public bool TryWrite(long offset, ReadOnlySpan<byte> source) => false;
        public bool TryWriteZeroes(long offset, long length) => false;
        public bool TryFlush() => false;
        public void Dispose() { }
    }
}
