namespace ShadowIo.Generator.Model;

/// <summary>One declared doorbell: a single value or notify doorbell, or a value array.</summary>
/// <remarks>Immutable and equatable by value, like every model (see <see cref="BlockModel"/>).</remarks>
public sealed record DoorbellModel
{
    /// <summary>Name as declared, e.g. "SQ tail".</summary>
    public required string DeclaredName { get; init; }

    /// <summary>PascalCased identifier, e.g. "SqTail".</summary>
    public required string Name { get; init; }

    public required DoorbellModelKind Kind { get; init; }

    /// <summary>Offset of the doorbell (an array's first element) within the block.</summary>
    public required ulong Offset { get; init; }

    public required int Width { get; init; }

    /// <summary>Elements: 1 for a single doorbell.</summary>
    public required int Count { get; init; }

    /// <summary>Bytes between array elements; 0 for a single doorbell.</summary>
    public required ulong Stride { get; init; }

    public required bool HasDataMatch { get; init; }

    public required ulong DataMatch { get; init; }

    /// <summary>Row of the (first) element in the doorbell table.</summary>
    public required int FirstRow { get; init; }

    /// <summary>Shadow-page offset of the (first) element; -1 for notify-only.</summary>
    public required int ShadowOffset { get; init; }
}
