using ShadowIo.Devices.Nvme;
using Xunit;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>Queue wrap-around, full queues, reset in the middle of I/O.</summary>
public sealed class QueueTests : IDisposable
{
    private const ulong Data = NvmeTestHost.DataArea;
    private readonly NvmeTestHost _host = new(namespaceBytes: 4 << 20);

    public QueueTests() => _host.Enable();

    public void Dispose() => _host.Dispose();

    [Fact]
    public void Queues_wrap_around_many_times_with_the_phase_tag_inverting()
    {
        var io = _host.CreateIoQueuePair(1, entries: 4);
        for (int i = 0; i < 50; i++)
        {
            _host.Ram.At(Data, 512).Fill((byte)i);
            var c = _host.Execute(io, Commands.Io(IoOpcode.Write, (ulong)i, 1, Data));
            Assert.Equal(NvmeStatus.Success, c.Status);
            Assert.Equal((ushort)1, c.SqId);
            Assert.Equal((ushort)((i + 1) % 4), c.SqHead);
        }
        for (int i = 0; i < 50; i++)
        {
            var b = new byte[512];
            Assert.True(_host.Storage.TryRead(i * 512, b));
            Assert.All(b, x => Assert.Equal((byte)i, x));
        }
    }

    [Fact]
    public void A_full_completion_queue_holds_commands_until_the_host_frees_entries()
    {
        // CQ of 4 entries holds 3 completions; SQ of 16 with 10 commands queued at once.
        _host.Ram.At(NvmeTestHost.IoCq(1), 4 * 16).Clear();
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.CreateCq(1, 4, NvmeTestHost.IoCq(1))).Status);
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.CreateSq(1, 16, NvmeTestHost.IoSq(1), 1)).Status);
        var io = new HostQueue(1, NvmeTestHost.IoSq(1), 16, NvmeTestHost.IoCq(1), 4);
        var ids = new List<ushort>();
        for (int i = 0; i < 10; i++) ids.Add(_host.Submit(io, Commands.Io(IoOpcode.Read, (ulong)i, 1, Data)));
        _host.RingSq(io);

        var seen = new List<ushort>();
        var batch = _host.ReapAll(io);
        Assert.Equal(3, batch.Count); // the controller stopped fetching: nothing was lost
        Assert.Equal(3, _host.Controller.SubmissionQueueHead(1));
        while (seen.Count + batch.Count < 10)
        {
            seen.AddRange(batch.Select(c => c.CommandId));
            _host.RingCq(io);             // frees entries: the controller goes on
            batch = _host.ReapAll(io);
            Assert.NotEmpty(batch);
        }
        seen.AddRange(batch.Select(c => c.CommandId));
        Assert.Equal(ids, seen);
    }

    [Fact]
    public void A_full_submission_queue_is_processed_entirely()
    {
        var io = _host.CreateIoQueuePair(1, entries: 8);
        for (int i = 0; i < 7; i++) _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data)); // 7 = size − 1: full
        _host.RingSq(io);
        Assert.Equal(7, _host.ReapAll(io).Count);
        _host.RingCq(io);
    }

    [Fact]
    public void Reset_in_the_middle_of_io_completes_fetched_commands_once_and_forgets_the_rest()
    {
        var io = _host.CreateIoQueuePair(1, entries: 16);
        for (int i = 0; i < 5; i++) _host.Submit(io, Commands.Io(IoOpcode.Write, (ulong)i, 1, Data));
        _host.RingSq(io);
        Assert.Equal(5, _host.ReapAll(io).Count);
        // Five more are written to the ring but the doorbell is never rung: reset instead.
        for (int i = 0; i < 5; i++) _host.Submit(io, Commands.Io(IoOpcode.Write, (ulong)(10 + i), 1, Data));
        long fetched = _host.Controller.Counters.CommandsFetched;
        _host.Disable();
        Assert.False(_host.Controller.SubmissionQueueExists(1));
        Assert.Equal(fetched, _host.Controller.Counters.CommandsFetched);
        // A doorbell to the old queue now does nothing at all.
        _host.Write32(0x1008, 10);
        Assert.Equal(fetched, _host.Controller.Counters.CommandsFetched);
        // Start over and do good I/O.
        _host.Enable();
        io = _host.CreateIoQueuePair(1, entries: 16);
        _host.Ram.At(Data, 512).Fill(0x5A);
        Assert.Equal(NvmeStatus.Success, _host.Execute(io, Commands.Io(IoOpcode.Write, 3, 1, Data)).Status);
        _host.Ram.At(Data, 512).Clear();
        Assert.Equal(NvmeStatus.Success, _host.Execute(io, Commands.Io(IoOpcode.Read, 3, 1, Data)).Status);
        Assert.All(_host.Ram.At(Data, 512).ToArray(), b => Assert.Equal(0x5A, b));
        Assert.Equal(_host.Controller.Counters.CommandsFetched, _host.Controller.Counters.CompletionsPosted);
    }

    [Fact]
    public void Several_queue_pairs_work_independently_and_can_share_a_completion_queue()
    {
        var a = _host.CreateIoQueuePair(1);
        var b = _host.CreateIoQueuePair(16);
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.CreateSq(2, 16, NvmeTestHost.IoSq(2), 1)).Status);
        var shared = new HostQueue(2, NvmeTestHost.IoSq(2), 16, NvmeTestHost.IoCq(1), 64);
        Assert.Equal(NvmeStatus.Success, _host.Execute(a, Commands.Io(IoOpcode.Read, 0, 1, Data)).Status);
        Assert.Equal(NvmeStatus.Success, _host.Execute(b, Commands.Io(IoOpcode.Read, 0, 1, Data)).Status);
        _host.Submit(shared, Commands.Io(IoOpcode.Read, 0, 1, Data));
        _host.RingSq(shared);
        Assert.True(_host.TryReap(a, out var c)); // SQ 2's completion lands in CQ 1
        Assert.Equal((ushort)2, c.SqId);
        Assert.Equal(NvmeStatus.InvalidQueueDeletion, _host.AdminCommand(Commands.DeleteCq(1)).Status);
    }
}
