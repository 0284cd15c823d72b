namespace ShadowIo.Benchmarks.Doorbells;

/// <summary>One mode's best round.</summary>
/// <param name="Mode">The mode measured.</param>
/// <param name="NanosecondsPerWrite">Wall time of the run divided by the number of guest writes.</param>
/// <param name="UserspaceExits">KVM_RUN returns in that round, the finishing <c>out</c> included.</param>
public readonly record struct DoorbellWriteCost(DoorbellWriteMode Mode, double NanosecondsPerWrite, long UserspaceExits);

/// <summary>Every mode's cost for <see cref="Writes"/> guest writes (best of <see cref="Rounds"/>).</summary>
/// <param name="Writes">Guest writes per round.</param>
/// <param name="Rounds">Rounds run per mode.</param>
/// <param name="Modes">Each mode's best round, in the order trap, ioeventfd, guest-store.</param>
public sealed record DoorbellWriteReport(int Writes, int Rounds, IReadOnlyList<DoorbellWriteCost> Modes)
{
    /// <summary>The best round of <paramref name="mode"/>.</summary>
    /// <exception cref="InvalidOperationException">The report has no such mode.</exception>
    public DoorbellWriteCost this[DoorbellWriteMode mode] => Modes.First(m => m.Mode == mode);

    /// <summary>How many times slower a trapped doorbell is than an ioeventfd one (the seed's headline ratio).</summary>
    public double TrapOverIoEventFd => this[DoorbellWriteMode.Trap].NanosecondsPerWrite / this[DoorbellWriteMode.IoEventFd].NanosecondsPerWrite;

    /// <summary>How many times slower an ioeventfd doorbell is than a plain store to guest RAM.</summary>
    public double IoEventFdOverGuestStore => this[DoorbellWriteMode.IoEventFd].NanosecondsPerWrite / this[DoorbellWriteMode.GuestStore].NanosecondsPerWrite;
}
