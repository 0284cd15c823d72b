using ShadowIo.Devices.Virtio;
using ShadowIo.Fuzz.Nvme;
using static Tmds.Linux.LibC;

namespace ShadowIo.Fuzz;

/// <summary>
/// Fuzzes the virtio-blk device's PCI function as a hostile vfio-user client reaches it: the input
/// is replayed into a <see cref="ShadowIo.VfioUser.Server.VfioUserServer"/> serving
/// <see cref="VirtioPciFunction"/> (config space with the vendor capabilities, BAR4's common
/// configuration, ISR, device configuration and notify doorbells, BAR1's MSI-X table, device
/// reset), and every queue a notify write signalled is then served from the client memory the
/// input mapped and wrote, as the device thread would.
/// </summary>
/// <remarks>
/// <para>Input format: <see cref="SocketInput"/>, as the vfio-user target's (send records with fds
/// from a pool of the client RAM memfd and two eventfds; RAM records write that memfd before the
/// server runs). The channel and message decoders are the vfio-user target's: this one does not
/// repeat them.</para>
/// <para>Checked: what <see cref="VfioUserServerSession"/> checks (no exception, one well-formed
/// reply per command, no device failure, no internal error in the device), and that no fd
/// outlives the session.</para>
/// </remarks>
public static class VfioUserVirtioTarget
{
    private static int[]? s_eventFds;
    private static bool s_warm;

    /// <summary>What the device did in the last session.</summary>
    public static VirtioServedSummary? LastSession => VfioUserServerSession.LastVirtio;

    /// <summary>Runs one input.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > VfioUserTarget.MaxInputBytes)
            input = input[..VfioUserTarget.MaxInputBytes];
        // Live as long as the process: a fork-server loop runs many inputs.
        s_eventFds ??= [eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)];
        // The first session opens the runtime's own fds (and the client RAM memfd): not a leak.
        if (!s_warm)
        {
            VfioUserServerSession.Run([], VfioUserTarget.Send, s_eventFds, VfioUserServerSession.ServedDevice.VirtioBlk);
            s_warm = true;
        }
        var before = VfioUserTarget.FdsOpen();
        VfioUserServerSession.Run(input, VfioUserTarget.Send, s_eventFds, VfioUserServerSession.ServedDevice.VirtioBlk);
        var leaked = VfioUserTarget.FdsOpen().Except(before).ToList();
        if (leaked.Count != 0)
            throw new FuzzInvariantException($"{leaked.Count} fd(s) leaked by one server session: {string.Join(", ", leaked)}");
    }
}
