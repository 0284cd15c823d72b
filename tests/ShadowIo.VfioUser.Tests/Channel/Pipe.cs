using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Channel;

/// <summary>
/// A pipe whose write end is sent to the peer: once every copy of the write end is closed, the
/// read end reads end-of-file. So a test sees exactly whether the receiver closed (or kept) the
/// fd it got, without counting the process's fds (other tests open fds in parallel).
/// </summary>
internal sealed unsafe class Pipe : IDisposable
{
    private int _read;
    private int _write;

    public Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
            throw new IOException("pipe2 failed");
        _read = fds[0];
        _write = fds[1];
    }

    /// <summary>The write end, to send; <see cref="CloseOurWriteEnd"/> once sent.</summary>
    public int WriteEnd => _write;

    public void CloseOurWriteEnd()
    {
        if (_write >= 0)
            close(_write);
        _write = -1;
    }

    /// <summary>True once no process holds the write end (read returns 0), false while one still does (EAGAIN).</summary>
    public bool WriteEndClosedEverywhere()
    {
        byte b;
        long n = read(_read, &b, 1);
        return n == 0;
    }

    public void Dispose()
    {
        CloseOurWriteEnd();
        if (_read >= 0)
            close(_read);
        _read = -1;
    }
}
