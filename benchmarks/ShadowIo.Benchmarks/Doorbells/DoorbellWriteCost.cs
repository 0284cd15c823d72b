namespace ShadowIo.Benchmarks.Doorbells;

/// <summary>One mode's best round.</summary>
/// <param name="Mode">The mode measured.</param>
/// <param name="NanosecondsPerWrite">Wall time of the run divided by the number of guest writes.</param>
/// <param name="UserspaceExits">KVM_RUN returns in that round, the finishing <c>out</c> included.</param>
/// <param name="Transport">Where the device was.</param>
public readonly record struct DoorbellWriteCost(DoorbellWriteMode Mode, double NanosecondsPerWrite, long UserspaceExits, DoorbellTransport Transport = DoorbellTransport.InProcess);

/// <summary>Every mode's cost for <see cref="Writes"/> guest writes (best of <see cref="Rounds"/>).</summary>
/// <param name="Writes">Guest writes per round.</param>
/// <param name="Rounds">Rounds run per mode.</param>
/// <param name="Modes">Each mode's best round: in process trap, ioeventfd, guest-store; then, when measured, over vfio-user trap, shadow-trap, ioeventfd.</param>
public sealed record DoorbellWriteReport(int Writes, int Rounds, IReadOnlyList<DoorbellWriteCost> Modes)
{
    /// <summary>The best round of <paramref name="mode"/>.</summary>
    /// <exception cref="InvalidOperationException">The report has no such mode.</exception>
    public DoorbellWriteCost this[DoorbellWriteMode mode] => this[mode, DoorbellTransport.InProcess];

    /// <summary>The best round of <paramref name="mode"/> over <paramref name="transport"/>.</summary>
    /// <exception cref="InvalidOperationException">The report has no such mode.</exception>
    public DoorbellWriteCost this[DoorbellWriteMode mode, DoorbellTransport transport] => Modes.First(m => m.Mode == mode && m.Transport == transport);

    /// <summary>Whether the device in another process was measured too.</summary>
    public bool HasVfioUser => Modes.Any(m => m.Transport == DoorbellTransport.VfioUser);

    /// <summary>Over vfio-user: how many times slower a REGION_WRITE doorbell is than the server's ioeventfd registered with KVM (the seed reported 4x).</summary>
    public double VfioUserTrapOverIoEventFd => Ratio(DoorbellWriteMode.Trap, DoorbellTransport.VfioUser, DoorbellWriteMode.IoEventFd, DoorbellTransport.VfioUser);

    /// <summary>Out-of-process ioeventfd against in-process ioeventfd (the goal: within 1.1).</summary>
    public double VfioUserIoEventFdOverInProcess => Ratio(DoorbellWriteMode.IoEventFd, DoorbellTransport.VfioUser, DoorbellWriteMode.IoEventFd, DoorbellTransport.InProcess);

    /// <summary>A REGION_WRITE doorbell against an in-process trap: what the message and the device process's reply add.</summary>
    public double VfioUserTrapOverInProcessTrap => Ratio(DoorbellWriteMode.Trap, DoorbellTransport.VfioUser, DoorbellWriteMode.Trap, DoorbellTransport.InProcess);

    private double Ratio(DoorbellWriteMode a, DoorbellTransport at, DoorbellWriteMode b, DoorbellTransport bt) =>
        this[a, at].NanosecondsPerWrite / this[b, bt].NanosecondsPerWrite;

    /// <summary>How many times slower a trapped doorbell is than an ioeventfd one (the seed's headline ratio).</summary>
    public double TrapOverIoEventFd => this[DoorbellWriteMode.Trap].NanosecondsPerWrite / this[DoorbellWriteMode.IoEventFd].NanosecondsPerWrite;

    /// <summary>How many times slower an ioeventfd doorbell is than a plain store to guest RAM.</summary>
    public double IoEventFdOverGuestStore => this[DoorbellWriteMode.IoEventFd].NanosecondsPerWrite / this[DoorbellWriteMode.GuestStore].NanosecondsPerWrite;
}
