using ShadowIo.Testing;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>What one run of a driver program cost and counted.</summary>
/// <param name="Exits">The harness's view: every exit to userspace, the finishing <c>out</c> included.</param>
/// <param name="Statistics">The guest's own counters for this run.</param>
/// <param name="Elapsed">Wall time of the run on the host (Stopwatch around the vCPU loop).</param>
internal readonly record struct GuestRun(GuestRunResult Exits, GuestStatistics Statistics, TimeSpan Elapsed)
{
    /// <summary>Exits to userspace other than the finish marker.</summary>
    public long UserspaceExits => Exits.ExitsToUserspace - 1;

    public long TscTicks => Statistics.EndTsc - Statistics.StartTsc;
}
