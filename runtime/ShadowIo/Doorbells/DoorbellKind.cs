namespace ShadowIo;

/// <summary>What a doorbell carries to the emulator.</summary>
public enum DoorbellKind
{
    /// <summary>The written value matters; it is kept in the shadow page.</summary>
    Value,
    /// <summary>Only the event matters (optionally only for one datamatch value).</summary>
    Notify,
}
