using System.Runtime.InteropServices;
using ShadowIo.Native;
using static Tmds.Linux.LibC;

namespace ShadowIo.Runtime.Tests.Native;

/// <summary>
/// The SCM_RIGHTS layer the fd-passing transport uses (vfio-user), over a real
/// socketpair: the kernel installs the fds, so what these tests see is what a peer would send.
/// </summary>
[Collection(ShadowIo.Runtime.Tests.Support.ResourceCountingCollection.Name)]
public sealed unsafe class RightsControlTests
{
    [Fact]
    public void The_glibc_x86_64_layout_is_what_the_kernel_reads()
    {
        // struct msghdr, struct iovec; CMSG_LEN(4 fds) = 16 + 16, CMSG_SPACE(1 fd) = 16 + 8 (glibc says 20 and 24 for one fd).
        Assert.Equal(56, sizeof(SocketMessages.MessageHeader));
        Assert.Equal(16, sizeof(SocketMessages.IoVector));
        Assert.Equal(20, SocketMessages.ControlLength(sizeof(int)));
        Assert.Equal(24, RightsControl.BufferSize(1));
        Assert.Equal(32, RightsControl.BufferSize(4));
    }

    [Fact]
    public void Fds_written_on_one_end_are_collected_on_the_other_as_the_same_files()
    {
        using var first = Memfd.Create("rights-a", 4096);
        using var second = Memfd.Create("rights-b", 4096);
        var (sender, receiver) = SocketPair();
        try
        {
            Send(sender, [first.Fd, second.Fd]);
            Span<int> received = stackalloc int[8];
            int count = Receive(receiver, received, out bool overflowed);
            Assert.Equal(2, count);
            Assert.False(overflowed);
            try
            {
                Assert.Equal(Inode(first.Fd), Inode(received[0]));
                Assert.Equal(Inode(second.Fd), Inode(received[1]));
                Assert.NotEqual(first.Fd, received[0]);   // new numbers, installed by the kernel
            }
            finally
            {
                close(received[0]);
                close(received[1]);
            }
        }
        finally
        {
            close(sender);
            close(receiver);
        }
    }

    [Fact]
    public void Fds_past_the_room_are_closed_at_once_and_reported()
    {
        var files = new[] { Memfd.Create("rights-0", 4096), Memfd.Create("rights-1", 4096), Memfd.Create("rights-2", 4096) };
        var (sender, receiver) = SocketPair();
        try
        {
            Send(sender, [files[0].Fd, files[1].Fd, files[2].Fd]);
            var before = OpenMemfdLinks();
            Span<int> received = stackalloc int[1];
            int count = Receive(receiver, received, out bool overflowed);
            Assert.Equal(1, count);
            Assert.True(overflowed);
            Assert.Equal(Inode(files[0].Fd), Inode(received[0]));
            close(received[0]);
            // The kernel installed three; none of them is still open in this process.
            Assert.Equal(before, OpenMemfdLinks());
        }
        finally
        {
            close(sender);
            close(receiver);
            foreach (var file in files) file.Dispose();
        }
    }

    [Fact]
    public void A_header_running_past_the_data_ends_the_walk()
    {
        // A length the kernel never writes: nothing in or after it is taken (nor closed).
        byte* control = stackalloc byte[RightsControl.BufferSize(2)];
        int length = RightsControl.Write(control, [-1, -1]);
        *(ulong*)control = (ulong)(length + 8);
        Span<int> received = stackalloc int[4];
        Assert.Equal(0, RightsControl.Collect(control, length, received, out bool overflowed));
        Assert.False(overflowed);
    }

    private static (int, int) SocketPair()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
        return (fds[0], fds[1]);
    }

    private static void Send(int socket, ReadOnlySpan<int> fds)
    {
        byte one = 1;
        byte* control = stackalloc byte[RightsControl.BufferSize(fds.Length)];
        var vector = new SocketMessages.IoVector { Base = &one, Length = 1 };
        var message = new SocketMessages.MessageHeader
        {
            Vectors = &vector,
            VectorCount = 1,
            Control = control,
            ControlLength = (nuint)RightsControl.Write(control, fds),
        };
        Assert.Equal(1, (long)SocketMessages.SendMessage(socket, &message, SocketMessages.MsgNoSignal));
    }

    private static int Receive(int socket, Span<int> destination, out bool overflowed)
    {
        byte data;
        int space = RightsControl.BufferSize(16);
        byte* control = stackalloc byte[space];
        var vector = new SocketMessages.IoVector { Base = &data, Length = 1 };
        var message = new SocketMessages.MessageHeader
        {
            Vectors = &vector,
            VectorCount = 1,
            Control = control,
            ControlLength = (nuint)space,
        };
        Assert.Equal(1, (long)SocketMessages.ReceiveMessage(socket, &message, SocketMessages.MsgCmsgCloexec));
        Assert.Equal(0, message.Flags & SocketMessages.MsgCtrunc);
        return RightsControl.Collect(control, (long)message.ControlLength, destination, out overflowed);
    }

    private static ulong Inode(int fd)
    {
        Tmds.Linux.stat st;
        Assert.Equal(0, fstat(fd, &st));
        return (ulong)st.st_ino;
    }

    /// <summary>The /proc/self/fd links of every open descriptor of these tests' memfds, sorted: one entry per descriptor.</summary>
    private static List<string> OpenMemfdLinks() =>
        [.. Directory.EnumerateFiles("/proc/self/fd")
            .Select(path => { try { return new FileInfo(path).LinkTarget; } catch (IOException) { return null; } })
            .Where(target => target != null && target.StartsWith("/memfd:rights-", StringComparison.Ordinal))
            .Select(target => target!)
            .Order(StringComparer.Ordinal)];
}
