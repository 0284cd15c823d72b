namespace ShadowIo.Testing.Benchmarks;

/// <summary>One mode's best round.</summary>
/// <param name="NanosecondsPerWrite">Wall time of the run divided by the number of guest writes.</param>
/// <param name="UserspaceExits">KVM_RUN returns in that round, the finishing <c>out</c> included.</param>
public readonly record struct DoorbellWriteCost(DoorbellWriteMode Mode, double NanosecondsPerWrite, long UserspaceExits);

/// <summary>Every mode's cost for <see cref="Writes"/> guest writes (best of <see cref="Rounds"/>).</summary>
public sealed record DoorbellWriteReport(int Writes, int Rounds, IReadOnlyList<DoorbellWriteCost> Modes)
{
    public DoorbellWriteCost this[DoorbellWriteMode mode] => Modes.First(m => m.Mode == mode);

    public double TrapOverIoEventFd => this[DoorbellWriteMode.Trap].NanosecondsPerWrite / this[DoorbellWriteMode.IoEventFd].NanosecondsPerWrite;

    public double IoEventFdOverGuestStore => this[DoorbellWriteMode.IoEventFd].NanosecondsPerWrite / this[DoorbellWriteMode.GuestStore].NanosecondsPerWrite;
}
