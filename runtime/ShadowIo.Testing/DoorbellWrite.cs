namespace ShadowIo.Testing;

/// <summary>One guest write of <paramref name="Value"/> to doorbell <paramref name="Row"/> of a block's <see cref="DoorbellTable"/>.</summary>
/// <param name="Row">The doorbell's row in the table (array elements expanded, as generated).</param>
/// <param name="Value">What the guest stores; only the doorbell's width reaches the device.</param>
public readonly record struct DoorbellWrite(int Row, ulong Value);
