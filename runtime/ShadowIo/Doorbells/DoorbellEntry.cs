namespace ShadowIo;

/// <summary>
/// One row of a generated ioeventfd registration table: one doorbell, array elements expanded.
/// </summary>
/// <param name="Name">Doorbell name as declared (arrays: the array's name).</param>
/// <param name="Element">Element index within its array; 0 for a single doorbell.</param>
/// <param name="Offset">Byte offset within the register block.</param>
/// <param name="Width">Access length in bytes (1, 2, 4 or 8): the ioeventfd <c>len</c>.</param>
/// <param name="Kind">Value-carrying or notify-only.</param>
/// <param name="HasDataMatch">Whether only <paramref name="DataMatch"/> fires it.</param>
/// <param name="DataMatch">The datamatch value when <paramref name="HasDataMatch"/>.</param>
/// <param name="ShadowOffset">Offset of the value in the shadow page; -1 for notify-only.</param>
public readonly record struct DoorbellEntry(
    string Name,
    int Element,
    ulong Offset,
    int Width,
    DoorbellKind Kind,
    bool HasDataMatch,
    ulong DataMatch,
    int ShadowOffset);
