using System.Buffers.Binary;
using ShadowIo.Native;
using ShadowIo.Qemu.Protocol;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.Linux.Tests.Qemu.Support;

/// <summary>
/// Plays QEMU's x-pci-proxy-dev on one end of a socketpair: sends requests the way
/// hw/remote/proxy.c does and waits (bounded) for the RET.
/// </summary>
internal sealed class FakeQemuProxy : IDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);
    private readonly MpqemuChannel _channel;
    private readonly MpqemuMessage _reply = new();

    public FakeQemuProxy(FileDescriptorHandle socket) => _channel = new MpqemuChannel(socket);

    public MpqemuChannel Channel => _channel;

    public uint ConfigRead(uint address, int length) =>
        (uint)Request(MpqemuCommand.PciConfigRead, Config(address, 0, length));

    public ulong ConfigWrite(uint address, uint value, int length) =>
        Request(MpqemuCommand.PciConfigWrite, Config(address, value, length));

    public ulong BarRead(ulong address, uint size, bool memory = true) =>
        Request(MpqemuCommand.BarRead, Bar(address, 0, size, memory));

    public ulong BarWrite(ulong address, ulong value, uint size, bool memory = true) =>
        Request(MpqemuCommand.BarWrite, Bar(address, value, size, memory));

    public ulong Reset() => Request(MpqemuCommand.DeviceReset, []);

    public void SyncSysmem(ReadOnlySpan<SysmemRegion> regions, ReadOnlySpan<int> fds)
    {
        var payload = new byte[MpqemuWire.SyncSysmemSize];
        for (int i = 0; i < regions.Length; i++) SysmemLayout.Write(payload, i, regions[i]);
        _channel.Send(MpqemuCommand.SyncSysmem, payload, fds);
    }

    public void SetIrqfd(int intr, int resample) => _channel.Send(MpqemuCommand.SetIrqfd, [], [intr, resample]);

    /// <summary>Sends, then waits for the reply; fails the test if none arrives in time.</summary>
    public ulong Request(MpqemuCommand command, ReadOnlySpan<byte> payload)
    {
        _channel.Send(command, payload);
        return AwaitReturn();
    }

    public ulong AwaitReturn()
    {
        if (!WaitReadable(_channel.Fd, ReplyTimeout)) throw new TimeoutException("The server sent no reply.");
        var status = _channel.Receive(_reply);
        if (status != ReceiveStatus.Message) throw new IOException($"No reply: {status}.");
        if (_reply.Command != (int)MpqemuCommand.Ret) throw new IOException($"Reply command {_reply.Command}, not RET.");
        return _reply.PayloadSize == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(_reply.Payload) : 0;
    }

    /// <summary>Whether the server closed its end (read returns end of file) within the timeout.</summary>
    public bool WaitForClose(TimeSpan timeout)
    {
        if (!WaitReadable(_channel.Fd, timeout)) return false;
        return _channel.Receive(_reply) == ReceiveStatus.Closed;
    }

    /// <summary>Whether nothing (no reply) arrives within <paramref name="quiet"/>.</summary>
    public bool StaysQuiet(TimeSpan quiet) => !WaitReadable(_channel.Fd, quiet);

    public static unsafe bool WaitReadable(int fd, TimeSpan timeout)
    {
        pollfd p = new() { fd = fd, events = POLLIN };
        int n;
        do n = poll(&p, 1, (int)timeout.TotalMilliseconds); while (n < 0 && errno == EINTR);
        return n > 0;
    }

    public void Dispose() => _channel.Dispose();

    private static byte[] Config(uint address, uint value, int length)
    {
        var payload = new byte[MpqemuWire.ConfigAccessSize];
        new ConfigAccess(address, value, length).WriteTo(payload);
        return payload;
    }

    private static byte[] Bar(ulong address, ulong value, uint size, bool memory)
    {
        var payload = new byte[MpqemuWire.BarAccessSize];
        new BarAccess(address, value, size, memory).WriteTo(payload);
        return payload;
    }
}
