using ShadowIo.Devices.Nvme;
using Xunit;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>The controller's command books: every fetched command completes exactly once, AERs aside.</summary>
public sealed class CommandAccountingTests : IDisposable
{
    private const ulong Data = NvmeTestHost.DataArea;
    private readonly NvmeTestHost _host = new();

    public CommandAccountingTests() => _host.Enable();

    public void Dispose() => _host.Dispose();

    [Fact]
    public void Admin_and_io_commands_leave_nothing_outstanding()
    {
        var io = _host.CreateIoQueuePair(1, entries: 16);
        for (int i = 0; i < 10; i++) _host.Submit(io, Commands.Io(IoOpcode.Read, (ulong)i, 1, Data));
        _host.RingSq(io);
        Assert.Equal(10, _host.ReapAll(io).Count);
        _host.RingCq(io);

        var books = _host.Controller.ReadCommandAccounting();
        Assert.Equal(12, books.Fetched);                 // Create CQ, Create SQ, ten reads
        Assert.Equal(12, books.Completed);
        Assert.Equal(0, books.Outstanding);
        Assert.Null(books.FindProblem());
    }

    [Fact]
    public void An_async_event_request_stays_outstanding_and_a_reset_discards_it_as_an_aer()
    {
        _host.Submit(_host.Admin, Commands.Admin(AdminOpcode.AsyncEventRequest));
        _host.RingSq(_host.Admin);
        var books = _host.Controller.ReadCommandAccounting();
        Assert.Equal((1, 0, 1, 1), (books.Fetched, books.Completed, books.Outstanding, books.OutstandingAsyncEventRequests));
        Assert.Null(books.FindProblem());

        _host.Disable();
        books = _host.Controller.ReadCommandAccounting();
        Assert.Equal((0, 1, 1), (books.Outstanding, books.Discarded, books.DiscardedAsyncEventRequests));
        Assert.Equal(0, books.NeverCompleted);
        Assert.Null(books.FindProblem());
    }

    [Fact]
    public void An_async_event_completes_its_request_once()
    {
        _host.Submit(_host.Admin, Commands.Admin(AdminOpcode.AsyncEventRequest));
        _host.RingSq(_host.Admin);
        _host.Write32(0x1008, 1); // SQ 1 does not exist: an error event completes the AER.
        Assert.Single(_host.ReapAll(_host.Admin));
        _host.RingCq(_host.Admin);

        var books = _host.Controller.ReadCommandAccounting();
        Assert.Equal((1, 1, 0), (books.Fetched, books.Completed, books.Outstanding));
        Assert.Null(books.FindProblem());
    }

    [Fact]
    public void A_reused_identifier_is_a_collision_and_the_books_stay_exact()
    {
        ushort aer = _host.Submit(_host.Admin, Commands.Admin(AdminOpcode.AsyncEventRequest));
        _host.RingSq(_host.Admin);
        _host.Admin.NextCommandId = aer; // Linux never does this: the AER's identifier again, while it waits.
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.Identify(IdentifyCns.Controller, 0, Data)).Status);
        _host.Write32(0x1008, 1);
        Assert.Single(_host.ReapAll(_host.Admin));
        _host.RingCq(_host.Admin);

        var books = _host.Controller.ReadCommandAccounting();
        Assert.Equal((2, 2, 0), (books.Fetched, books.Completed, books.Outstanding));
        Assert.Equal(1, books.CommandIdCollisions);
        Assert.Equal(0, books.DuplicateCompletions);
        Assert.True(books.Balances);
        Assert.Contains("identifier already outstanding", books.FindProblem(), StringComparison.Ordinal);
    }

    [Fact]
    public void Deleting_a_queue_closes_its_account()
    {
        var io = _host.CreateIoQueuePair(1, entries: 16);
        Assert.Equal(NvmeStatus.Success, _host.Execute(io, Commands.Io(IoOpcode.Write, 0, 1, Data)).Status);
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.DeleteSq(1)).Status);
        Assert.Equal(NvmeStatus.Success, _host.AdminCommand(Commands.DeleteCq(1)).Status);

        var books = _host.Controller.ReadCommandAccounting();
        Assert.Equal((5, 5, 0, 0), (books.Fetched, books.Completed, books.Outstanding, books.Discarded));
        Assert.Null(books.FindProblem());
    }

    [Fact]
    public void Books_that_miss_a_completion_or_show_a_second_one_name_the_problem()
    {
        var lost = new CommandAccounting(Fetched: 10, Completed: 8, Outstanding: 2, OutstandingAsyncEventRequests: 1, 0, 0, 0, 0);
        Assert.Equal(1, lost.NeverCompleted);
        Assert.StartsWith("1 fetched command(s) never completed", lost.FindProblem(), StringComparison.Ordinal);

        var twice = new CommandAccounting(Fetched: 10, Completed: 11, Outstanding: 0, 0, 0, 0, DuplicateCompletions: 1, 0);
        Assert.True(twice.Balances);
        Assert.Contains("completed twice", twice.FindProblem(), StringComparison.Ordinal);
    }
}
