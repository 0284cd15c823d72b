using ShadowIo.Devices.Nvme;
using ShadowIo.Samples.Nvme.Guest;
using ShadowIo.Testing;
using Xunit;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// The guest driver's steps for tests that drive one controller through several guest runs:
/// set up (enable, I/O queue pair, optional Doorbell Buffer Config), stage and run 4 KiB I/O,
/// run any program and check the guest finished cleanly.
/// </summary>
internal static class GuestDriverSteps
{
    public const ulong Bar = NvmeWorkload.Bar;
    public const int Entries = 64;
    public const int Blocks = 32;

    /// <summary>Zeroed queues and fresh state words, enable, create the I/O pair, Doorbell Buffer Config when given pages.</summary>
    public static void SetUp(TestGuest guest, ControllerHost host, WorkloadLayout layout, ulong shadow, ulong eventIdx)
    {
        var memory = guest.Memory;
        foreach (var (queue, bytes) in (ReadOnlySpan<(ulong, int)>)[(layout.AdminCompletionQueue, WorkloadLayout.AdminQueueEntries * 16), (layout.IoCompletionQueue, Entries * 16)])
        {
            Assert.True(memory.TryGetSpan(queue, bytes, out var span));
            span.Clear();
        }
        foreach (var state in (ulong[])[layout.AdminQueueState, layout.IoQueueState])
        {
            Assert.True(memory.TryWrite(state, 0UL));
            Assert.True(memory.TryWrite(state + 8, 1UL)); // expected phase 1
        }
        Span<byte> entry = stackalloc byte[SubmissionEntries.Size];
        SubmissionEntries.CreateIoCompletionQueue(entry, 1, Entries, layout.IoCompletionQueue);
        Assert.True(memory.TryWrite(layout.AdminCommands, entry));
        SubmissionEntries.CreateIoSubmissionQueue(entry, 1, Entries, layout.IoSubmissionQueue, 1);
        Assert.True(memory.TryWrite(layout.AdminCommands + 64, entry));
        int count = 2;
        if (shadow != 0)
        {
            SubmissionEntries.DoorbellBufferConfig(entry, shadow, eventIdx);
            Assert.True(memory.TryWrite(layout.AdminCommands + 128, entry));
            count = 3;
        }

        var run = Run(guest, host, layout, p =>
        {
            p.EnableController(layout.AdminSubmissionQueue, layout.AdminCompletionQueue, WorkloadLayout.AdminQueueEntries, maxReadyPolls: 1000);
            p.Run(new QueueJob
            {
                QueueId = 0,
                SubmissionQueue = layout.AdminSubmissionQueue,
                CompletionQueue = layout.AdminCompletionQueue,
                Entries = WorkloadLayout.AdminQueueEntries,
                StateAddress = layout.AdminQueueState,
                CommandTable = layout.AdminCommands,
                Count = count,
                Depth = 1,
                Policy = DoorbellPolicy.Mmio,
            });
        });
        Assert.Equal(0, run.Statistics.ErrorCompletions);
        Assert.Equal(shadow != 0, host.Binding.IsGuestShadowAttached);
    }

    /// <summary>Stages one 4 KiB command per block and describes the job that submits them 8 deep.</summary>
    public static QueueJob IoJob(GuestMemory memory, WorkloadLayout layout, byte opcode, ulong buffers, ulong shadow, ulong eventIdx)
    {
        Span<byte> entry = stackalloc byte[SubmissionEntries.Size];
        for (int block = 0; block < Blocks; block++)
        {
            // 512-byte LBAs (the controller's default format): eight per 4 KiB block.
            SubmissionEntries.ReadWrite(entry, opcode, NvmeController.NamespaceId, (ulong)block * 8, 8, buffers + (ulong)block * 4096, 0);
            Assert.True(memory.TryWrite(layout.IoCommands + (ulong)block * 64, entry));
        }
        return new QueueJob
        {
            QueueId = 1,
            SubmissionQueue = layout.IoSubmissionQueue,
            CompletionQueue = layout.IoCompletionQueue,
            Entries = Entries,
            StateAddress = layout.IoQueueState,
            CommandTable = layout.IoCommands,
            Count = Blocks,
            Depth = 8,
            Policy = shadow != 0 ? DoorbellPolicy.ShadowAlwaysRing : DoorbellPolicy.Mmio,
            ShadowPage = shadow,
            EventIndexPage = eventIdx,
        };
    }

    /// <summary>Sets up, writes every block with <paramref name="pass"/>'s pattern, reads it back and checks it.</summary>
    public static void AssertWriteThenReadRoundTrips(TestGuest guest, ControllerHost host, WorkloadLayout layout, bool useShadow, int pass = 11)
    {
        var memory = guest.Memory;
        ulong shadow = useShadow ? layout.ShadowDoorbells : 0, eventIdx = useShadow ? layout.EventIndexes : 0;
        SetUp(guest, host, layout, shadow, eventIdx);
        byte[] page = new byte[4096];
        for (int block = 0; block < Blocks; block++)
        {
            DataPatterns.Fill(page, pass, block);
            Assert.True(memory.TryWrite(layout.WriteBuffer(block), page));
        }
        var writeJob = IoJob(memory, layout, SubmissionEntries.WriteOpcode, layout.WriteBuffers, shadow, eventIdx);
        var writes = Run(guest, host, layout, p => p.Run(writeJob));
        Assert.Equal(Blocks, writes.Statistics.Completions);
        Assert.Equal(0, writes.Statistics.ErrorCompletions);

        Assert.True(memory.TryGetSpan(layout.ReadBuffers, Blocks * 4096, out var readBuffers));
        readBuffers.Clear();
        var readJob = IoJob(memory, layout, SubmissionEntries.ReadOpcode, layout.ReadBuffers, shadow, eventIdx);
        var reads = Run(guest, host, layout, p => p.Run(readJob));
        Assert.Equal(Blocks, reads.Statistics.Completions);
        Assert.Equal(0, reads.Statistics.ErrorCompletions);
        for (int block = 0; block < Blocks; block++)
        {
            Assert.True(memory.TryRead(layout.ReadBuffer(block), page));
            Assert.True(DataPatterns.Matches(page, pass, block), $"block {block} did not round-trip");
        }
    }

    /// <summary>Assembles a driver program, runs it to the finish marker, checks the guest did not give up.</summary>
    public static GuestRun Run(TestGuest guest, ControllerHost host, WorkloadLayout layout, Action<DriverProgram> build)
    {
        Assert.True(guest.Memory.TryWrite(layout.Statistics, new byte[GuestStatistics.Size]));
        var program = new DriverProgram(Bar, layout.Statistics, (byte)ShadowIo.Testing.GuestLayout.FinishPort, 20_000_000_000);
        build(program);
        guest.Load(program.Assemble(ShadowIo.Testing.GuestLayout.Code));
        var exits = guest.RunToFinish(host.Bus);
        host.CheckHealth();
        Assert.True(GuestStatistics.TryRead(guest.Memory, layout.Statistics, out var statistics));
        Assert.Equal(GuestFailure.None, statistics.Failure);
        return new GuestRun(exits, statistics, TimeSpan.Zero);
    }
}
