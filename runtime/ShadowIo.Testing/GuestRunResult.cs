namespace ShadowIo.Testing;

/// <summary>What one <see cref="TestGuest.RunToFinish"/> saw.</summary>
/// <param name="ExitsToUserspace">Every return of KVM_RUN, the finishing <c>out</c> included.</param>
/// <param name="MmioReads">MMIO read exits.</param>
/// <param name="MmioWrites">MMIO write exits (a trapped doorbell is one; an ioeventfd-bound one is none).</param>
/// <param name="UnmappedAccesses">MMIO exits, and port I/O elements, no bus range covered (reads returned all ones; writes were dropped).</param>
/// <param name="FinishValue">The value the guest's finishing <c>out</c> wrote (AL).</param>
public readonly record struct GuestRunResult(long ExitsToUserspace, long MmioReads, long MmioWrites, long UnmappedAccesses, ulong FinishValue)
{
    /// <summary>Port input exits (<c>in</c>, <c>ins</c>), the finish marker not included.</summary>
    public long PortInputs { get; init; }

    /// <summary>Port output exits (<c>out</c>, <c>outs</c>; a trapped port doorbell is one), the finish marker not included.</summary>
    public long PortOutputs { get; init; }
}
