namespace ShadowIo;

/// <summary>
/// One doorbell fired: <see cref="Row"/> of the <see cref="DoorbellSet"/> (or binding) registered
/// as <see cref="Source"/> in <see cref="DoorbellEvents"/>. Read the value with the block's
/// generated DoorbellReader over the source's <c>Shadow</c>.
/// </summary>
/// <param name="Source">The id <see cref="DoorbellEvents.Add(DoorbellSet)"/> returned.</param>
/// <param name="Row">The doorbell's row in the block's DoorbellTable.</param>
public readonly record struct DoorbellEvent(int Source, int Row)
{
    /// <summary>
    /// How many writes the eventfd counted since the last wait (eventfds coalesce: several
    /// writes between two waits arrive as one event; the shadow holds the last value).
    /// </summary>
    public ulong Signals { get; init; }
}
