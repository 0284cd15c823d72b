using ShadowIo.Native;

namespace ShadowIo.Runtime.Tests.Native;

/// <summary>The native layer's stated policies (EventFd, Epoll, FileDescriptorHandle remarks).</summary>
[Collection(ShadowIo.Runtime.Tests.Support.ResourceCountingCollection.Name)]
public sealed class EventFdTests
{
    [Fact]
    public void Drain_returns_the_pending_count_once_and_then_zero()
    {
        using var fd = EventFd.Create("test");
        Assert.Equal(0ul, fd.Drain());   // EAGAIN: nothing pending
        Assert.True(fd.Signal());
        Assert.True(fd.Signal());
        Assert.True(fd.Signal());
        Assert.Equal(3ul, fd.Drain());
        Assert.Equal(0ul, fd.Drain());
    }

    [Fact]
    public unsafe void A_saturated_counter_counts_as_signalled()
    {
        using var fd = EventFd.Create("test");
        ulong max = ulong.MaxValue - 1;  // the largest value an eventfd holds
        Assert.Equal(8, (int)Tmds.Linux.LibC.write(fd.Fd, &max, 8));
        Assert.True(fd.Signal());        // EAGAIN on write: already as signalled as it gets
        Assert.Equal(max, fd.Drain());
    }

    [Fact]
    public void A_closed_handle_neither_throws_nor_touches_its_old_number()
    {
        var fd = EventFd.Create("closed");
        int number = fd.Fd;
        fd.Dispose();
        fd.Dispose();
        using var successor = EventFd.Create("successor");   // takes the lowest free number
        Assert.Equal(number, successor.Fd);
        Assert.False(fd.Signal());
        Assert.Equal(0ul, fd.Drain());
        Assert.Equal(-1, fd.Fd);
        Assert.Equal(0ul, successor.Drain());
    }

    [Fact]
    public void Dispose_from_many_threads_closes_once()
    {
        for (int i = 0; i < 200; i++)
        {
            var fd = EventFd.Create("raced");
            int number = fd.Fd;
            Parallel.For(0, 4, _ => fd.Dispose());
            using var successor = EventFd.Create("successor");
            Assert.Equal(number, successor.Fd);   // closed exactly once: a second close would have closed the successor
            Assert.True(successor.Signal());
            Assert.Equal(1ul, successor.Drain());
        }
    }

    [Fact]
    public unsafe void Epoll_reports_a_signalled_eventfd_by_its_token_and_times_out_with_zero()
    {
        using var epoll = Epoll.Create("test");
        using var fd = EventFd.Create("test");
        epoll.Add(fd, 0xABCD_0001);
        var ready = stackalloc Tmds.Linux.epoll_event[4];
        Assert.Equal(0, epoll.Wait(ready, 4, 0));
        fd.Signal();
        Assert.Equal(1, epoll.Wait(ready, 4, 1000));
        Assert.Equal(0xABCD_0001ul, ready[0].data.u64);
        epoll.Remove(fd);
        Assert.Equal(0, epoll.Wait(ready, 4, 0));
    }
}
