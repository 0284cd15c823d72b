namespace ShadowIo.Generator;

/// <summary>
/// Names of the incremental pipeline's steps, so tests can assert each step is cached after an
/// unrelated edit.
/// </summary>
public static class TrackingNames
{
    /// <summary>Classes carrying [RegisterBlock], parsed into a valid block's model or an invalid block's declarations.</summary>
    public const string ParsedBlocks = nameof(ParsedBlocks);

    /// <summary>Models of valid blocks only.</summary>
    public const string ValidBlocks = nameof(ValidBlocks);

    /// <summary>What blocks with layout errors still generate: the implementing parts of their declarations.</summary>
    public const string InvalidBlocks = nameof(InvalidBlocks);
}
