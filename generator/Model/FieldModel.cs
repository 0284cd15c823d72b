namespace ShadowIo.Generator.Model;

/// <summary>One bit field of a register.</summary>
/// <remarks>Immutable and equatable by value, like every model (see <see cref="BlockModel"/>).</remarks>
public sealed record FieldModel
{
    /// <summary>Name as declared, e.g. "IOSQES".</summary>
    public required string DeclaredName { get; init; }

    /// <summary>PascalCased identifier, e.g. "Iosqes".</summary>
    public required string Name { get; init; }

    /// <summary>Position of the least significant bit.</summary>
    public required int Bit { get; init; }

    public required int Width { get; init; }

    public required FieldAccess Access { get; init; }

    /// <summary>Fully qualified enum type ("global::…") or null for a plain value.</summary>
    public required string? EnumType { get; init; }
}
