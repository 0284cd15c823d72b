using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Samples.Nvme;
using ShadowIo.Samples.Nvme.Guest;
using ShadowIo.Testing;
using Xunit;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// A guest resets the controller (CC.EN 1→0) after writing through shadow doorbells, then sets it
/// up again: the reset must hand the doorbells back to trapping (the binding detaches the guest
/// page), the new Doorbell Buffer Config must attach the new pages, and the namespace must still
/// hold what was written before the reset.
/// </summary>
public sealed class ControllerResetTests
{
    private const ulong Bar = NvmeWorkload.Bar;
    private const int Entries = 64;
    private const int Blocks = 32;
    private const int Pass = 7;

    [Fact]
    public void Data_written_before_a_controller_reset_reads_back_after_the_guest_sets_up_again_with_new_shadow_pages()
    {
        KvmRequirement.Present();
        using var kvm = KvmSystem.Open();
        var layout = new WorkloadLayout(ShadowIo.Testing.GuestLayout.Data, Entries, Blocks, Blocks);
        using var guest = TestGuest.Create(kvm, 16UL << 20);
        using var storage = new MemoryNamespaceStorage(Blocks * 4096L);
        using var host = new ControllerHost(guest, storage, Bar, DoorbellBindingMode.GuestShadow, polling: false, TimeSpan.Zero, TimeSpan.Zero);
        var memory = guest.Memory;

        // Set up with the first pair of shadow pages, write every block.
        SetUp(guest, host, layout, layout.ShadowDoorbells, layout.EventIndexes);
        for (int block = 0; block < Blocks; block++)
        {
            DataPatterns.Fill(Page, Pass, block);
            Assert.True(memory.TryWrite(layout.WriteBuffer(block), Page));
        }
        var writeJob = IoJob(memory, layout, SubmissionEntries.WriteOpcode, layout.WriteBuffers, layout.ShadowDoorbells, layout.EventIndexes);
        var writes = Run(guest, host, layout, p => p.Run(writeJob));
        Assert.Equal(Blocks, writes.Statistics.Completions);
        Assert.Equal(0, writes.Statistics.ErrorCompletions);
        Assert.Equal(0, writes.UserspaceExits); // I/O doorbells were ioeventfds

        // Reset: the controller drops its queues and the guest's shadow pages.
        Run(guest, host, layout, p => p.DisableController(maxReadyPolls: 1000));
        Assert.False(host.Controller.IsDoorbellBufferActive);
        Assert.False(host.Binding.IsGuestShadowAttached);

        // Set up again from zeroed queues, this time naming the pages the other way round.
        SetUp(guest, host, layout, layout.EventIndexes, layout.ShadowDoorbells);
        Assert.True(memory.TryGetSpan(layout.ReadBuffers, Blocks * 4096, out var readBuffers));
        readBuffers.Clear();
        var readJob = IoJob(memory, layout, SubmissionEntries.ReadOpcode, layout.ReadBuffers, layout.EventIndexes, layout.ShadowDoorbells);
        var reads = Run(guest, host, layout, p => p.Run(readJob));
        Assert.Equal(Blocks, reads.Statistics.Completions);
        Assert.Equal(0, reads.Statistics.ErrorCompletions);
        Assert.Equal(0, reads.UserspaceExits);
        for (int block = 0; block < Blocks; block++)
        {
            Assert.True(memory.TryRead(layout.ReadBuffer(block), Page));
            Assert.True(DataPatterns.Matches(Page, Pass, block), $"block {block} did not survive the controller reset");
        }
        Assert.Equal(0, host.Controller.Counters.InternalErrors);
    }

    private static readonly byte[] Page = new byte[4096];

    /// <summary>Zeroed queues and fresh state words, enable, create the I/O pair, Doorbell Buffer Config.</summary>
    private static void SetUp(TestGuest guest, ControllerHost host, WorkloadLayout layout, ulong shadow, ulong eventIdx)
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
        SubmissionEntries.DoorbellBufferConfig(entry, shadow, eventIdx);
        Assert.True(memory.TryWrite(layout.AdminCommands + 128, entry));

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
                Count = 3,
                Depth = 1,
                Policy = DoorbellPolicy.Mmio,
            });
        });
        Assert.Equal(0, run.Statistics.ErrorCompletions);
        Assert.True(host.Binding.IsGuestShadowAttached);
    }

    /// <summary>Stages one 4 KiB command per block and describes the job that submits them 8 deep.</summary>
    private static QueueJob IoJob(GuestMemory memory, WorkloadLayout layout, byte opcode, ulong buffers, ulong shadow, ulong eventIdx)
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
            Policy = DoorbellPolicy.ShadowAlwaysRing,
            ShadowPage = shadow,
            EventIndexPage = eventIdx,
        };
    }

    private static GuestRun Run(TestGuest guest, ControllerHost host, WorkloadLayout layout, Action<DriverProgram> build)
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
