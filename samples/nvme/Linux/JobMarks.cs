using System.Collections.Concurrent;
using System.Diagnostics;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// What the console's job markers (<see cref="GuestScript.JobBeginPrefix"/>,
/// <see cref="GuestScript.JobEndPrefix"/>) found when they appeared: a device-side counter (doorbell
/// or notify writes) and the time since the run began, so each job gets its own count and the
/// peers' runs can be timed to the same point.
/// </summary>
/// <param name="counter">Read on each marker, on the console's thread.</param>
internal sealed class JobMarks(Func<long> counter)
{
    private readonly ConcurrentDictionary<string, (long Count, TimeSpan At)> _marks = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>The console callback: records a marker line, ignores every other line.</summary>
    public void Observe(string line)
    {
        line = line.Trim();
        if (line.StartsWith(GuestScript.JobBeginPrefix, StringComparison.Ordinal) || line.StartsWith(GuestScript.JobEndPrefix, StringComparison.Ordinal))
            _marks[line] = (counter(), _clock.Elapsed);
    }

    public long? CountAt(string marker) => _marks.TryGetValue(marker, out var m) ? m.Count : null;

    public TimeSpan? TimeAt(string marker) => _marks.TryGetValue(marker, out var m) ? m.At : null;
}
