namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// The controller's entry for coverage-guided fuzzing (fuzz/ShadowIo.Fuzz, AFL++ through
/// SharpFuzz) and for the corpus replay test. The first byte picks how the rest drives the
/// controller:
/// <list type="bullet">
/// <item>even: the property fuzzer's episode (<see cref="FuzzEpisode"/>) with every choice read
/// from the input, so all of its invariants hold (exactly-once completion, allowed statuses,
/// LBA ranges, red zones, the final round trip);</item>
/// <item>odd: <see cref="RawControllerDriver"/>, a direct byte-to-register/guest-RAM/doorbell
/// driver in which the guest writes whatever it likes (raw SQ entries, PRP lists, shadow
/// doorbell values, BAR0 writes at any offset and width), checked for escaped exceptions,
/// internal errors and writes outside guest RAM.</item>
/// </list>
/// A violated invariant throws <see cref="FuzzInvariantException"/>; so does any exception that
/// escapes the controller. Hostile input the controller rejects as the spec says is not a failure.
/// </summary>
public static class ControllerByteFuzzer
{
    /// <summary>Longer inputs are cut here: enough for thousands of inputs, short enough to stay fast.</summary>
    public const int MaxInputBytes = 64 * 1024;

    private static GuestRam? s_ram;
    private static GuestMemory.Region s_region;

    /// <summary>Runs one input; throws <see cref="FuzzInvariantException"/> on a violated invariant.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length == 0) return;
        if (input.Length > MaxInputBytes) input = input[..MaxInputBytes];
        // One RAM for the whole process (a fork-server loop runs millions of inputs), wiped per input
        // so that no input sees another's bytes.
        if (s_ram is null)
        {
            s_ram = new GuestRam(FuzzLayout.Base, FuzzLayout.RamSize);
            s_region = s_ram.Memory.Regions[0];
        }
        var ram = s_ram;
        ram.Bytes.Clear();
        ram.Memory.SetRegions([s_region]);
        if ((input[0] & 1) == 0) RunEpisode(input[1..].ToArray(), ram);
        else RawControllerDriver.Run(input[1..], ram);
        if (!ram.RedZonesIntact())
        {
            s_ram = null; // Do not let the next input inherit the damage.
            ram.Dispose();
            throw new FuzzInvariantException("guest RAM red zone changed: a write landed outside guest memory");
        }
    }

    private static void RunEpisode(byte[] bytes, GuestRam ram)
    {
        var report = new FuzzReport();
        new FuzzEpisode(new ByteFuzzSource(bytes), ram, report, $"{bytes.Length}-byte input").Run(int.MaxValue);
        if (report.FailureCount != 0)
            throw new FuzzInvariantException($"{report.FailureCount} invariant failure(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", report.Failures));
    }
}

/// <summary>An invariant of the code under test (a device, a decoder, a transport) failed for a fuzz input.</summary>
public sealed class FuzzInvariantException : Exception
{
    public FuzzInvariantException(string message) : base(message) { }

    public FuzzInvariantException() { }

    public FuzzInvariantException(string message, Exception inner) : base(message, inner) { }
}
