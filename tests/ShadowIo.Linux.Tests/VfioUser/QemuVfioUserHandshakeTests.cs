using ShadowIo.Linux.Tests.Infrastructure;
using ShadowIo.Linux.Tests.Guest;
using ShadowIo.LinuxGuest;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.Linux.Tests.VfioUser;

/// <summary>
/// QEMU 11.1's vfio-user-pci client against the codec and channel: what QEMU really sends decodes,
/// the guest RAM's fd arrives as a real fd (a file on the tmpfs the runner mounts for that QEMU
/// alone, <see cref="LinuxGuestOptions.SharedMemory"/>), and QEMU reads our replies.
/// </summary>
[Collection(QemuGuestCollection.Name)]
public sealed class QemuVfioUserHandshakeTests(ITestOutputHelper output)
{
    private const int GuestMiB = 256;
    private const string SocketName = "vfio-user.sock";

    [Fact]
    public async Task QEMU_proposes_version_0_0_with_its_capabilities_then_maps_guest_RAM_from_a_tmpfs_of_its_own()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = await RepositoryGuest.QemuRootAsync(ct);
        using var sockets = root.CreateRunDirectory();
        using var listener = VfioUserListener.Listen(sockets.HostPath(SocketName));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = RepositoryGuest.RunAsync(new LinuxGuestOptions
        {
            QemuRoot = root,
            MemoryMiB = GuestMiB,
            SharedMemory = true,
            ExtraQemuArgs =
            [
                "-device", $$$"""{"driver":"vfio-user-pci","socket":{"path":"{{{sockets.PathInRoot(SocketName)}}}","type":"unix"}}""",
            ],
            Timeout = TimeSpan.FromMinutes(2),
        }, ct);

        // QEMU waits 5 s for each reply (x-msg-timeout): the exchange runs on a thread of its own,
        // not on a thread-pool thread that a loaded machine may hand out late.
        var exchange = Task.Factory.StartNew(() => Exchange(listener, run, clock), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var seen = await exchange;
        output.WriteLine(seen.Log);
        Assert.True(seen.Error is null, $"{seen.Error}\n{await Describe(run)}");
        var proposal = seen.Proposal;
        Assert.Equal((0, 0), ((int)proposal.Major, (int)proposal.Minor));
        Assert.Equal(16u, proposal.Capabilities.MaxMessageFds);
        Assert.Equal((ulong)ProtocolLimits.DefaultMaxDataTransferSize, proposal.Capabilities.MaxDataTransferSize);
        Assert.Equal(4096ul, proposal.Capabilities.PageSizes);
        Assert.True(proposal.Capabilities.WriteMultiple);
        Assert.True(seen.RamMapped, "QEMU mapped no RAM with its fd");
        // The RAM file: unlinked by QEMU (the memory goes with it), on the huge-page tmpfs mounted
        // in QEMU's own mount namespace, which this process never sees (nothing stays mounted).
        Assert.Equal(0ul, seen.RamLinks);
        output.WriteLine($"QEMU's shadowio-ram mount: {seen.QemuRamMount}");
        Assert.Contains("huge=within_size", seen.QemuRamMount, StringComparison.Ordinal);
        Assert.DoesNotContain(LinuxGuestRunner.SharedMemoryMountSource, seen.OurMounts, StringComparison.Ordinal);

        var ended = await Assert.ThrowsAsync<InvalidOperationException>(() => run);
        output.WriteLine(ended.Message);
    }

    private sealed record Observed(VersionMessage Proposal, bool RamMapped, string? Error, string Log)
    {
        public ulong RamLinks { get; init; } = ulong.MaxValue;

        /// <summary>The line of QEMU's /proc/pid/mountinfo for the RAM tmpfs (empty if none).</summary>
        public string QemuRamMount { get; init; } = "";

        /// <summary>This process's /proc/self/mountinfo while QEMU runs.</summary>
        public string OurMounts { get; init; } = "";
    }

    /// <summary>Plays the server's side as far as the codec goes: VERSION, then DMA maps until guest RAM arrives with its fd, then refuses the next request.</summary>
    private static Observed Exchange(VfioUserListener listener, Task run, System.Diagnostics.Stopwatch clock)
    {
        var log = new System.Text.StringBuilder();
        VersionMessage proposal = default;
        bool ramMapped = false;
        VfioUserChannel? accepted = null;
        // QEMU starts once the machine-wide TCG slot is free: wait for it as long as the run lives.
        while (accepted is null && !run.IsCompleted)
            accepted = listener.Accept(TimeSpan.FromMilliseconds(200));
        if (accepted is null)
            return new(proposal, ramMapped, "QEMU never connected", log.ToString());
        using var channel = accepted;
        log.AppendLine($"{clock.Elapsed}: QEMU connected");
        using var message = new ReceivedMessage(ProtocolLimits.Default with { MaxMessageFds = ProtocolLimits.LargestMaxMessageFds });
        if (channel.Receive(message) != ReceiveStatus.Message || message.Header.Command != VfioUserCommand.Version || message.Header.IsReply)
            return new(proposal, ramMapped, $"expected VERSION, got {message.Header}", log.ToString());
        if (VersionMessage.Decode(message.Payload, out proposal) != 0)
            return new(proposal, ramMapped, "QEMU's VERSION does not decode", log.ToString());
        log.AppendLine($"{clock.Elapsed}: QEMU proposed {proposal}");

        // Our answer: the same version, a subset of the capabilities, no longer than the proposal.
        var reply = new byte[VersionMessage.MaxEncodedSize];
        int length = new VersionMessage(0, 0, new VersionCapabilities { MaxMessageFds = 8, MaxDataTransferSize = ProtocolLimits.DefaultMaxDataTransferSize })
            .Encode(reply);
        if (length > message.Payload.Length || !channel.Send(MessageHeader.ForReply(message.Header, length), reply.AsSpan(0, length)))
            return new(proposal, ramMapped, "the VERSION reply did not go out", log.ToString());

        // QEMU accepted it: next come the DMA maps, guest RAM (READ|WRITE) with its fd.
        Observed ram = new(proposal, false, null, "");
        for (int i = 0; i < 32; i++)
        {
            if (channel.Receive(message) != ReceiveStatus.Message)
                return new(proposal, ramMapped, $"{clock.Elapsed}: the stream ended after {i} messages", log.ToString());
            if (message.Header.Command != VfioUserCommand.DmaMap)
                break;
            if (DmaMapRequest.Decode(message.Payload, message.Fds.Count, out var map) != 0)
                return new(proposal, ramMapped, $"a DMA_MAP does not decode: {Convert.ToHexString(message.Payload)}", log.ToString());
            log.AppendLine($"{clock.Elapsed}: {map} with {message.Fds.Count} fd(s)");
            if (message.Fds.Count == 1)
            {
                using var fd = message.Fds.Take(0);
                if (map.Flags == (DmaMapFlags.Read | DmaMapFlags.Write) && Stat(fd.Fd) is { Size: (long)GuestMiB << 20 } file)
                {
                    ramMapped = true;
                    // The peer of the socket is QEMU itself (the runner's unshare, sh and chroot exec into it).
                    string qemuMounts = PeerPid(channel.Fd) is int pid ? File.ReadAllText($"/proc/{pid}/mountinfo") : "";
                    ram = ram with
                    {
                        RamLinks = file.Links,
                        QemuRamMount = qemuMounts.Split('\n').FirstOrDefault(l => l.Contains($" - tmpfs {LinuxGuestRunner.SharedMemoryMountSource} ", StringComparison.Ordinal)) ?? "",
                        OurMounts = File.ReadAllText("/proc/self/mountinfo"),
                    };
                }
            }
            if (!message.Header.NoReply)
                channel.Send(MessageHeader.ForReply(message.Header, 0), []);
        }
        // Refusing the next request (DEVICE_GET_INFO) makes QEMU give the device, and the machine, up.
        log.AppendLine($"{clock.Elapsed}: refusing {message.Header.Command}");
        if (!message.Header.NoReply)
            channel.SendError(message.Header, EINVAL);
        return ram with { Proposal = proposal, RamMapped = ramMapped, Log = log.ToString() };
    }

    private static unsafe (long Size, ulong Links)? Stat(int fd)
    {
        Tmds.Linux.stat st;
        return fstat(fd, &st) == 0 ? ((long)st.st_size, (ulong)st.st_nlink) : null;
    }

    /// <summary>The pid of the process at the other end of a connected unix socket (SO_PEERCRED's struct ucred: pid, uid, gid).</summary>
    private static unsafe int? PeerPid(int socket)
    {
        int* credentials = stackalloc int[3];
        Tmds.Linux.socklen_t length = 3 * sizeof(int);
        return getsockopt(socket, SOL_SOCKET, SO_PEERCRED, credentials, &length) == 0 ? credentials[0] : null;
    }

    private static async Task<string> Describe(Task<GuestRunResult> run)
    {
        try
        {
            var result = await run;
            return $"the guest ran to exit {result.ExitCode}";
        }
        catch (Exception e)
        {
            return e.Message;
        }
    }
}
