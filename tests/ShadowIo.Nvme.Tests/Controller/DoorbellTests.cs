using ShadowIo.Devices.Nvme;
using Xunit;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>Invalid doorbell writes and asynchronous events; the host-facing doorbell entry points.</summary>
public sealed class DoorbellTests : IDisposable
{
    private const ulong Data = NvmeTestHost.DataArea;
    private readonly NvmeTestHost _host = new();

    public DoorbellTests() => _host.Enable();

    public void Dispose() => _host.Dispose();

    private void PostAsyncEventRequest() => _host.Submit(_host.Admin, Commands.Admin(AdminOpcode.AsyncEventRequest));

    // The error information as a byte: AsyncErrorInfo is internal to the controller, and a public test's parameter may not be.
    [Theory]
    [InlineData(0x1008UL, 1u, (byte)AsyncErrorInfo.InvalidDoorbellRegister)]   // SQ 1 tail: no such queue
    [InlineData(0x100CUL, 0u, (byte)AsyncErrorInfo.InvalidDoorbellRegister)]   // CQ 1 head: no such queue
    [InlineData(0x1080UL, 0u, (byte)AsyncErrorInfo.InvalidDoorbellRegister)]   // SQ 16 tail
    [InlineData(0x1000UL, 32u, (byte)AsyncErrorInfo.InvalidDoorbellWriteValue)] // admin SQ tail = size
    [InlineData(0x1004UL, 0xFFFF_FFFFu, (byte)AsyncErrorInfo.InvalidDoorbellWriteValue)]
    public void An_invalid_doorbell_write_is_ignored_and_completes_an_async_event_request(ulong offset, uint value, byte info)
    {
        PostAsyncEventRequest();
        _host.RingSq(_host.Admin);
        Assert.Empty(_host.ReapAll(_host.Admin));

        _host.Write32(offset, value);

        var c = Assert.Single(_host.ReapAll(_host.Admin));
        Assert.Equal(NvmeStatus.Success, c.Status);
        var e = AsyncEvent.Parse(c.Result);
        Assert.Equal(AsyncEventType.ErrorStatus, e.Type);
        Assert.Equal(info, e.Info);
        Assert.Equal((byte)LogPageId.ErrorInformation, e.LogPage);
        Assert.Equal(1, _host.Controller.Counters.InvalidDoorbellWrites);
        _host.RingCq(_host.Admin);
        // The controller still works.
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.Identify(IdentifyCns.Controller, 0, Data)).Status);
    }

    [Fact]
    public void A_completion_head_past_the_posted_entries_is_an_invalid_value()
    {
        var io = _host.CreateIoQueuePair(1, entries: 8);
        PostAsyncEventRequest();
        _host.RingSq(_host.Admin);
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        _host.RingSq(io);
        Assert.Single(_host.ReapAll(io));
        _host.Write32(0x100C, 3); // one entry posted: head 1 is fine, 3 would consume unposted ones
        var c = Assert.Single(_host.ReapAll(_host.Admin));
        Assert.Equal((byte)AsyncErrorInfo.InvalidDoorbellWriteValue, AsyncEvent.Parse(c.Result).Info);
        _host.Write32(0x100C, 1);
        Assert.Equal(1, _host.Controller.Counters.InvalidDoorbellWrites);
    }

    [Fact]
    public void An_event_type_stays_masked_until_the_host_reads_the_error_log_without_retain()
    {
        PostAsyncEventRequest();
        PostAsyncEventRequest();
        _host.RingSq(_host.Admin);
        _host.Write32(0x1008, 1);  // no such queue
        _host.Write32(0x1000, 99); // admin tail beyond the queue
        var first = Assert.Single(_host.ReapAll(_host.Admin));
        Assert.Equal((byte)AsyncErrorInfo.InvalidDoorbellRegister, AsyncEvent.Parse(first.Result).Info);
        _host.RingCq(_host.Admin);

        // Reading the log with Retain Asynchronous Event keeps the type masked.
        uint numd = ErrorLog.EntrySize / 4 - 1;
        var retain = _host.AdminCommand(Commands.Admin(AdminOpcode.GetLogPage, prp1: Data, cdw10: (uint)LogPageId.ErrorInformation | (1u << 15) | (numd << 16)));
        Assert.Equal(NvmeStatus.Success, retain.Status);
        Assert.Empty(_host.ReapAll(_host.Admin));

        // Without it, the type is cleared and the waiting event is reported at once.
        _host.Submit(_host.Admin, Commands.Admin(AdminOpcode.GetLogPage, prp1: Data, cdw10: (uint)LogPageId.ErrorInformation | (numd << 16)));
        _host.RingSq(_host.Admin);
        var completions = _host.ReapAll(_host.Admin);
        Assert.Equal(2, completions.Count);
        Assert.Equal(NvmeStatus.Success, completions[0].Status); // the Get Log Page
        Assert.Equal((byte)AsyncErrorInfo.InvalidDoorbellWriteValue, AsyncEvent.Parse(completions[1].Result).Info);
    }

    [Fact]
    public void An_event_without_a_waiting_request_is_kept_until_one_arrives_and_not_duplicated()
    {
        _host.Write32(0x1008, 3);
        _host.Write32(0x1008, 3);
        _host.Write32(0x1008, 4); // same event: kept once
        PostAsyncEventRequest();
        PostAsyncEventRequest();
        _host.RingSq(_host.Admin);
        var c = Assert.Single(_host.ReapAll(_host.Admin));
        Assert.Equal((byte)AsyncErrorInfo.InvalidDoorbellRegister, AsyncEvent.Parse(c.Result).Info);
        Assert.Equal(1, _host.Controller.OutstandingAsyncEventRequests);
    }

    [Fact]
    public void An_invalid_value_on_an_existing_io_queue_leaves_the_queue_as_it_was()
    {
        var io = _host.CreateIoQueuePair(1, entries: 8);
        _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        _host.Write32(0x1008, 8); // = size: invalid
        Assert.Empty(_host.ReapAll(io));
        Assert.Equal(0, _host.Controller.SubmissionQueueHead(1));
        _host.RingSq(io);
        Assert.Single(_host.ReapAll(io));
    }

    [Fact]
    public void Process_doorbell_reads_values_from_a_host_supplied_shadow_region()
    {
        using var page = MemoryMapping.CreateAnonymous(4096);
        ShadowRegion region;
        unsafe { region = new ShadowRegion(page.Pointer, 4096); }
        _host.Controller.DoorbellSource = region;
        var q = _host.Admin;
        _host.Submit(q, Commands.Identify(IdentifyCns.Controller, 0, Data));
        // A binding stores the value in its shadow page and signals the row.
        region.WriteUInt32(NvmeRegisters.ShadowLayout.SqTail, (uint)q.SqTail);
        _host.Controller.ProcessDoorbell(NvmeRegisters.DoorbellIndex.SqTail);
        Assert.True(_host.TryReap(q, out var c));
        Assert.Equal(NvmeStatus.Success, c.Status);
        // Out-of-range rows from a confused host are ignored.
        _host.Controller.ProcessDoorbell(-1);
        _host.Controller.ProcessDoorbell(1000);
        Assert.Equal(0, _host.Controller.Counters.InternalErrors);
        _host.Controller.Dispose(); // before the page it reads goes away
    }

    [Fact]
    public void Poll_picks_up_tails_without_any_doorbell_event()
    {
        var io = _host.CreateIoQueuePair(3);
        for (int i = 0; i < 3; i++) _host.Submit(io, Commands.Io(IoOpcode.Read, 0, 1, Data));
        var source = _host.Controller.DoorbellSource;
        source.WriteUInt32(NvmeRegisters.ShadowLayout.SqTail + 3 * NvmeRegisters.ShadowLayout.SqTailStride, (uint)io.SqTail);
        Assert.Equal(3, _host.Controller.Poll());
        Assert.Equal(3, _host.ReapAll(io).Count);
        Assert.Equal(0, _host.Controller.Poll());
    }

    [Fact]
    public void The_doorbell_table_has_a_tail_and_a_head_row_per_queue_in_the_dbbuf_layout()
    {
        var table = NvmeController.DoorbellTable;
        Assert.Equal(2 * NvmeRegisters.QueueCount, table.Count);
        for (int y = 0; y < NvmeRegisters.QueueCount; y++)
        {
            var sq = table[NvmeRegisters.DoorbellIndex.SqTail + y];
            var cq = table[NvmeRegisters.DoorbellIndex.CqHead + y];
            Assert.Equal(0x1000UL + 8UL * (ulong)y, sq.Offset);
            Assert.Equal(0x1004UL + 8UL * (ulong)y, cq.Offset);
            Assert.Equal(8 * y, sq.ShadowOffset);
            Assert.Equal(8 * y + 4, cq.ShadowOffset);
            Assert.Equal(4, sq.Width);
        }
    }
}
