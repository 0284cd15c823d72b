using ShadowIo.Kvm;
using ShadowIo.Native;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Client;

/// <summary>
/// Our KVM VMM's side of vfio-user: connects to a server (any vfio-user device process, ours or
/// libvfio-user's), negotiates VERSION, shares guest RAM with DMA_MAP and the RAM's memfds, reads
/// the device's regions, and attaches BARs to the VMM's <see cref="Binding.MmioBus"/>
/// (<see cref="AttachBar"/>): the device's doorbells are registered with KVM by this process
/// from the server's region IO fds, every other access of the BAR becomes REGION_READ/REGION_WRITE.
/// Interrupts arrive on eventfds handed over with SET_IRQS (<see cref="EnableMsix"/>).
/// </summary>
/// <remarks>
/// <para>The server is hostile input like a guest: every reply is checked (message id, command,
/// sizes, counts, indices, fds: an eventfd where one is due, a regular file of sufficient size
/// for a shadow), and a reply that breaks the protocol ends with <see cref="VfioUserException"/>
/// during setup. On the MMIO path (a vCPU thread) nothing throws: a failed read returns all ones
/// and a failed write is dropped, both counted in <see cref="FailedAccesses"/> and reported to the
/// log, as a PCI master abort would look to the guest.</para>
/// <para>Threading: one request is on the link at a time (a lock), so vCPU threads and the VMM
/// thread may all use the client. A reply not arriving within <see cref="ReplyTimeout"/> fails
/// the request (QEMU's client waits 5 s, <c>x-msg-timeout</c>).</para>
/// </remarks>
public sealed partial class VfioUserClient : IDisposable
{
    /// <summary>SCM_MAX_FD: a GET_REGION_IO_FDS reply carries one fd per doorbell (and the shadow).</summary>
    internal const int MaxReceiveFds = 253;

    /// <summary>What the client accepts from the server: its largest reply is a region read of max_data_xfer_size.</summary>
    private static readonly ProtocolLimits ReceiveLimits = new(ProtocolLimits.DefaultMaxDataTransferSize, MaxReceiveFds);

    private readonly VfioUserChannel _channel;
    private readonly ReceivedMessage _message = new(ReceiveLimits);
    private readonly byte[] _request = new byte[ReceiveLimits.MaxMessageSize];
    private readonly Lock _gate = new();
    private readonly Action<string>? _log;
    private readonly List<VfioUserBar> _bars = [];
    private readonly List<VfioUserMsix> _msix = [];
    private ushort _nextMessageId = 1;
    private long _failedAccesses;
    private bool _broken;
    private int _disposed;

    private VfioUserClient(VfioUserChannel channel, Action<string>? log)
    {
        _channel = channel;
        _log = log;
    }

    /// <summary>How long a request waits for its reply.</summary>
    public static TimeSpan ReplyTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Connects to the server at <paramref name="socketPath"/>, negotiates VERSION and reads the
    /// device's info and regions.
    /// </summary>
    /// <exception cref="IOException">Nothing listens at the path.</exception>
    /// <exception cref="VfioUserException">The server refused or broke the protocol (not a PCI device, bad regions, ...).</exception>
    public static VfioUserClient Connect(string socketPath, Action<string>? log = null) =>
        Open(VfioUserListener.Connect(socketPath, ProtocolLimits.DefaultMaxMessageFds, MaxReceiveFds), log);

    /// <summary>As <see cref="Connect"/>, over a channel already connected (tests: a socketpair). Takes ownership of it.</summary>
    internal static VfioUserClient Open(VfioUserChannel channel, Action<string>? log = null)
    {
        var client = new VfioUserClient(channel, log);
        try
        {
            client.Negotiate();
            client.ReadDevice();
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The device's DEVICE_GET_INFO flags said it can be reset.</summary>
    public bool CanReset { get; private set; }

    /// <summary>The regions the server reported, BAR0–5 and config space (size 0: absent).</summary>
    public IReadOnlyList<VfioUserRegion> Regions { get; private set; } = [];

    /// <summary>The most fds the server takes in one message (its max_msg_fds; 8 when it named none).</summary>
    public int ServerMaxMessageFds { get; private set; } = ProtocolLimits.DefaultMaxMessageFds;

    /// <summary>Region accesses from the MMIO path that failed (an error reply, a broken link): the guest saw all ones or nothing.</summary>
    public long FailedAccesses => Interlocked.Read(ref _failedAccesses);

    /// <summary>REGION_READ messages sent.</summary>
    public long RegionReads => Interlocked.Read(ref _regionReads);

    /// <summary>REGION_WRITE messages sent.</summary>
    public long RegionWrites => Interlocked.Read(ref _regionWrites);

    private long _regionReads;
    private long _regionWrites;

    /// <summary>
    /// Shares every memory slot of <paramref name="vm"/> with the server: one DMA_MAP (READ|WRITE)
    /// with the slot's memfd, so the device reaches guest RAM directly.
    /// </summary>
    /// <exception cref="ArgumentException">A slot is not memfd-backed (nothing to send; this client does not serve DMA_READ/DMA_WRITE).</exception>
    /// <exception cref="VfioUserException">The server refused a map.</exception>
    public void MapGuestMemory(KvmVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        foreach (var (gpa, mapping) in vm.MemorySlots)
        {
            int fd = mapping.Fd;
            if (fd < 0)
                throw new ArgumentException($"The memory slot at 0x{gpa:x} is not memfd-backed: a vfio-user server can reach only RAM shared with an fd.", nameof(vm));
            var request = new DmaMapRequest(DmaMapFlags.Read | DmaMapFlags.Write, 0, gpa, mapping.Length);
            lock (_gate)
            {
                int length = request.Encode(_request);
                Exchange(VfioUserCommand.DmaMap, length, [fd], maxReplyFds: 0);
                RequireEmptyReply("DMA_MAP");
            }
        }
    }

    private void Negotiate()
    {
        var proposal = new VersionMessage(0, 0, new VersionCapabilities
        {
            MaxMessageFds = MaxReceiveFds,
            MaxDataTransferSize = ProtocolLimits.DefaultMaxDataTransferSize,
            PageSizes = 4096,
        });
        lock (_gate)
        {
            int length = proposal.Encode(_request);
            Exchange(VfioUserCommand.Version, length, default, maxReplyFds: 0);
            int error = VersionMessage.Decode(_message.Payload, out var reply);
            if (error != 0) throw Broken("VERSION: the reply is malformed");
            // The spec: the server answers our major and a minor no greater than proposed.
            if (reply.Major != 0 || reply.Minor != 0) throw Broken($"VERSION: the server answered {reply.Major}.{reply.Minor} to 0.0");
            var theirs = reply.Capabilities;
            if (theirs.PageSizes is { } pages && (pages & 4096) == 0) throw Broken($"VERSION: pgsizes 0x{pages:x} lacks 4 KiB");
            if (theirs.MaxMessageFds is { } fds)
            {
                if (fds == 0) throw Broken("VERSION: max_msg_fds 0");
                ServerMaxMessageFds = (int)Math.Min(fds, MaxReceiveFds);
            }
        }
    }

    private void ReadDevice()
    {
        DeviceInfo info;
        lock (_gate)
        {
            int length = DeviceInfo.EncodeRequest(_request);
            Exchange(VfioUserCommand.DeviceGetInfo, length, default, maxReplyFds: 0);
            if (DeviceInfo.DecodeReply(_message.Payload, out info) != 0) throw Broken("DEVICE_GET_INFO: the reply is malformed");
        }
        // As QEMU's vfio-user-pci requires: a PCI device with BARs, ROM and config space (≥ 8 regions).
        if ((info.Flags & DeviceInfoFlags.Pci) == 0) throw Broken("DEVICE_GET_INFO: the device is not a PCI device");
        if (info.RegionCount < RegionIndex.Config + 1 || info.RegionCount > 100)
            throw Broken($"DEVICE_GET_INFO: {info.RegionCount} regions (a PCI device has 8 to 100)");
        if (info.IrqCount > 50) throw Broken($"DEVICE_GET_INFO: {info.IrqCount} IRQ indices (at most 50)");
        CanReset = (info.Flags & DeviceInfoFlags.Reset) != 0;
        var regions = new VfioUserRegion[RegionIndex.Config + 1];
        for (uint index = 0; index <= RegionIndex.Config; index++) regions[index] = ReadRegionInfo(index);
        Regions = regions;
    }

    private VfioUserRegion ReadRegionInfo(uint index)
    {
        lock (_gate)
        {
            int length = RegionInfo.EncodeRequest(_request, RegionInfo.WireSize, index);
            Exchange(VfioUserCommand.DeviceGetRegionInfo, length, default, maxReplyFds: 1);
            if (RegionInfo.DecodeReply(_message.Payload, _message.Fds.Count, out var info, out _) != 0)
                throw Broken($"GET_REGION_INFO {index}: the reply is malformed");
            if (info.Index != index) throw Broken($"GET_REGION_INFO {index}: the reply is for region {info.Index}");
            // This client maps nothing (no MMAP areas): an fd that came is closed at once.
            _message.Fds.CloseAll();
            if (index == RegionIndex.Config && info.Size < 256) throw Broken($"GET_REGION_INFO: config space of {info.Size} bytes (at least 256)");
            if (index <= RegionIndex.Bar5 && info.Size != 0 && (info.Size & (info.Size - 1)) != 0)
                throw Broken($"GET_REGION_INFO {index}: a BAR of {info.Size} bytes (a PCI BAR's size is a power of two)");
            return new VfioUserRegion(index, info.Size,
                (info.Flags & RegionFlags.Read) != 0,
                (info.Flags & RegionFlags.Write) != 0);
        }
    }

    /// <summary>Reads <paramref name="size"/> (1, 2, 4 or 8) bytes of config space (REGION_READ on region 7).</summary>
    /// <exception cref="VfioUserException">The server refused or broke the protocol.</exception>
    public ulong ReadConfig(uint offset, int size) => RegionRead(RegionIndex.Config, offset, size, fromMmio: false);

    /// <summary>Writes config space (REGION_WRITE on region 7), waiting for the server's reply.</summary>
    /// <exception cref="VfioUserException">The server refused or broke the protocol.</exception>
    public void WriteConfig(uint offset, int size, ulong value) => RegionWrite(RegionIndex.Config, offset, size, value, fromMmio: false);

    /// <summary>DEVICE_RESET.</summary>
    /// <exception cref="VfioUserException">The device cannot be reset, or the server refused.</exception>
    public void Reset()
    {
        if (!CanReset) throw new VfioUserException(Errno.ENOTSUP, "DEVICE_RESET: the device did not offer reset (DEVICE_GET_INFO)");
        lock (_gate)
        {
            Exchange(VfioUserCommand.DeviceReset, 0, default, maxReplyFds: 0);
            RequireEmptyReply("DEVICE_RESET");
        }
    }

    /// <summary>
    /// One region access for the MMIO path or a VMM call. From the MMIO path a failure returns
    /// all ones (counted, logged); otherwise it throws.
    /// </summary>
    internal ulong RegionRead(uint region, ulong offset, int size, bool fromMmio)
    {
        var access = new RegionAccess(offset, region, (uint)size);
        try
        {
            lock (_gate)
            {
                int length = access.Encode(_request);
                Interlocked.Increment(ref _regionReads);
                Exchange(VfioUserCommand.RegionRead, length, default, maxReplyFds: 0);
                if (RegionAccess.DecodeReadReply(_message.Payload, access, out var data) != 0)
                    throw Broken($"REGION_READ of {size} bytes at 0x{offset:x} of region {region}: the reply does not echo the request with exactly that much data");
                ulong value = 0;
                for (int i = data.Length - 1; i >= 0; i--) value = (value << 8) | data[i];
                return value;
            }
        }
        catch (VfioUserException e) when (fromMmio)
        {
            Interlocked.Increment(ref _failedAccesses);
            _log?.Invoke($"{e.Message}; the guest reads all ones");
            return size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
        }
    }

    /// <summary>One region write, waiting for its reply (so the device has seen it before the vCPU runs on).</summary>
    internal void RegionWrite(uint region, ulong offset, int size, ulong value, bool fromMmio)
    {
        var access = new RegionAccess(offset, region, (uint)size);
        Span<byte> data = stackalloc byte[8];
        for (int i = 0; i < size; i++) data[i] = (byte)(value >> (8 * i));
        try
        {
            lock (_gate)
            {
                int length = access.Encode(_request, data[..size]);
                Interlocked.Increment(ref _regionWrites);
                Exchange(VfioUserCommand.RegionWrite, length, default, maxReplyFds: 0);
                if (RegionAccess.DecodeWriteReply(_message.Payload, access) != 0)
                    throw Broken($"REGION_WRITE of {size} bytes at 0x{offset:x} of region {region}: the reply does not echo the request");
            }
        }
        catch (VfioUserException e) when (fromMmio)
        {
            Interlocked.Increment(ref _failedAccesses);
            _log?.Invoke($"{e.Message}; the write is dropped");
        }
    }

    /// <summary>
    /// Sends the command in <c>_request[..length]</c> with <paramref name="fds"/> and receives its
    /// reply into <c>_message</c>, checked: a reply (not a command), our message id and command, no
    /// error flag, at most <paramref name="maxReplyFds"/> fds. A command the server sends meanwhile
    /// (this client serves none: memory is shared by fd) gets ENOTSUP. Caller holds <c>_gate</c>.
    /// </summary>
    private void Exchange(VfioUserCommand command, int length, ReadOnlySpan<int> fds, int maxReplyFds)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_broken) throw new VfioUserException(Errno.EPIPE, $"{command}: the link to the server is closed");
        ushort id = _nextMessageId++;
        if (!_channel.Send(MessageHeader.ForCommand(id, command, length), _request.AsSpan(0, length), fds))
            throw Broken($"{command}: the server has gone");
        while (true)
        {
            if (!WaitForReply()) throw Broken($"{command}: no reply within {ReplyTimeout.TotalSeconds} s");
            var status = _channel.Receive(_message);
            if (status == ReceiveStatus.Closed) throw Broken($"{command}: the server closed the link");
            if (status == ReceiveStatus.Corrupt) throw Broken($"{command}: the server's stream can no longer be framed");
            var header = _message.Header;
            if (status == ReceiveStatus.Rejected)
            {
                // Framed, but oversized or with bad fds: if it was our reply, the request failed.
                if (header.IsReply && header.MessageId == id) throw new VfioUserException(_message.Error, $"{command}: the reply was refused (errno {_message.Error})");
                continue;
            }
            if (!header.IsReply)
            {
                _log?.Invoke($"the server sent command {header.Command} (message {header.MessageId}); refused with ENOTSUP");
                if (!header.NoReply && !_channel.SendError(header, Errno.ENOTSUP)) throw Broken($"{command}: the server has gone");
                continue;
            }
            if (header.MessageId != id || header.Command != command)
                throw Broken($"{command}: a reply to message {header.MessageId} ({header.Command}) arrived for message {id}");
            if (header.IsError)
            {
                int errno = header.Error is > 0 and < 4096 ? (int)header.Error : Errno.EIO;
                throw new VfioUserException(errno, $"{command}: the server answered errno {header.Error}");
            }
            if (_message.Fds.Count > maxReplyFds)
                throw new VfioUserException(Errno.EINVAL, $"{command}: the reply carries {_message.Fds.Count} fds (at most {maxReplyFds})");
            return;
        }
    }

    private unsafe bool WaitForReply()
    {
        var wait = new pollfd { fd = _channel.Fd, events = POLLIN };
        long deadline = Environment.TickCount64 + (long)ReplyTimeout.TotalMilliseconds;
        while (true)
        {
            int remaining = (int)Math.Max(0, deadline - Environment.TickCount64);
            int n = poll(&wait, 1, remaining);
            if (n > 0) return true;
            if (n == 0) return false;
            if (Errno.Current != Errno.EINTR) throw PosixError.Create("poll", "the vfio-user link", Errno.Current);
        }
    }

    private void RequireEmptyReply(string what)
    {
        if (!_message.Payload.IsEmpty)
            throw Broken($"{what}: the reply has {_message.Payload.Length} bytes of payload (none expected)");
    }

    /// <summary>A protocol violation by the server: the link cannot be trusted any more and is marked broken.</summary>
    private VfioUserException Broken(string why)
    {
        _broken = true;
        return new VfioUserException(Errno.EPROTO, why);
    }

    /// <summary>Detaches every BAR (deassigning its ioeventfds), closes the interrupt eventfds and the socket.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        lock (_gate)
        {
            foreach (var bar in _bars) bar.DisposeCore();
            _bars.Clear();
            foreach (var msix in _msix) msix.Dispose();
            _msix.Clear();
            _channel.Dispose();
            _message.Dispose();
        }
    }
}
