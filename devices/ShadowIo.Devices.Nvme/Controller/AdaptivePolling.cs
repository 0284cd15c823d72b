using System.Diagnostics;

namespace ShadowIo.Devices.Nvme;

/// <summary>
/// The body of a controller thread that polls while the guest keeps it busy and sleeps on the
/// doorbells when the guest goes idle, with the race-free EventIdx hand-over between the two.
/// </summary>
/// <remarks>
/// While polling, <see cref="NvmeController.IsPolling"/> keeps EventIdx one behind the tail, so a
/// guest following Linux's rule never rings. After <c>idle</c> without work the thread turns
/// polling off (the controller writes EventIdx = tail, so the guest's next submission rings),
/// looks once more for work that raced with that, and only then sleeps until the ring: SPDK's
/// interrupt-mode handshake, and QEMU's. The one copy of that order for every host.
/// </remarks>
public static class AdaptivePolling
{
    /// <summary>Runs the polling loop on the calling thread until <paramref name="stopping"/> returns true.</summary>
    /// <param name="controller">The controller to poll; its <see cref="NvmeController.IsPolling"/> is set here.</param>
    /// <param name="stopping">Whether the host asked the thread to end (checked once a pass).</param>
    /// <param name="idle">How long the thread keeps polling after the last work before it sleeps.</param>
    /// <param name="pause">What the thread does between looks while idle but not yet asleep (spin, yield).</param>
    /// <param name="sleep">Blocks until a doorbell fires or the host wakes the thread.</param>
    public static void Run(NvmeController controller, Func<bool> stopping, TimeSpan idle, Action pause, Action sleep)
    {
        long idleTicks = (long)(idle.TotalSeconds * Stopwatch.Frequency);
        long lastWork = Stopwatch.GetTimestamp();
        controller.IsPolling = true;
        while (!stopping())
        {
            if (controller.Poll() > 0)
            {
                lastWork = Stopwatch.GetTimestamp();
                continue;
            }
            if (Stopwatch.GetTimestamp() - lastWork < idleTicks)
            {
                pause();
                continue;
            }
            controller.IsPolling = false;
            if (controller.Poll() == 0) sleep();
            controller.IsPolling = true;
            lastWork = Stopwatch.GetTimestamp();
        }
    }
}
