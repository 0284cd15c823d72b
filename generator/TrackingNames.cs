namespace ShadowIo.Generator;

/// <summary>
/// Names of the incremental pipeline's steps, so tests can assert each step is cached after an
/// unrelated edit.
/// </summary>
public static class TrackingNames
{
    /// <summary>Classes carrying [RegisterBlock], parsed into models (null when invalid).</summary>
    public const string ParsedBlocks = nameof(ParsedBlocks);

    /// <summary>Models of valid blocks only.</summary>
    public const string ValidBlocks = nameof(ValidBlocks);
}
