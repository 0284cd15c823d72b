namespace ShadowIo.LinuxGuest;

/// <summary>
/// The guest kernel reported that a CPU or RCU stopped making progress (a soft lockup, an RCU
/// stall, a hung task or a panic); the run was ended at once instead of at its timeout.
/// </summary>
public sealed class GuestStalledException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GuestStalledException() { }

    /// <summary>Creates the exception with a message.</summary>
    public GuestStalledException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public GuestStalledException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for the console line that reported the stall.</summary>
    /// <param name="stallLine">The kernel's report, e.g. <c>watchdog: BUG: soft lockup - CPU#1 stuck for 26s!</c>.</param>
    /// <param name="consoleTail">The last console lines, the report among them.</param>
    public GuestStalledException(string stallLine, string consoleTail)
        : base($"the guest kernel reported a stall or a panic: {stallLine}\nconsole tail:\n{consoleTail}")
    {
        StallLine = stallLine;
    }

    /// <summary>The console line that reported the stall.</summary>
    public string? StallLine { get; }
}
