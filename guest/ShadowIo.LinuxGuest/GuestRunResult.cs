namespace ShadowIo.LinuxGuest;

/// <summary>What one guest run printed.</summary>
/// <param name="Output">The payload's output between the markers (\n line ends).</param>
/// <param name="ExitCode">The payload's exit status as /init reported it.</param>
/// <param name="Console">Everything QEMU's serial console printed (firmware, kernel, markers).</param>
/// <param name="Elapsed">From QEMU's start to its exit (boot-to-result).</param>
public sealed record GuestRunResult(string Output, int ExitCode, string Console, TimeSpan Elapsed)
{
    /// <summary>Output lines, without the trailing empty one.</summary>
    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.None).SkipLast(Output.EndsWith('\n') ? 1 : 0).ToArray();
}
