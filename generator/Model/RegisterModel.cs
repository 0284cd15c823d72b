using ShadowIo.Generator.Helpers;

namespace ShadowIo.Generator.Model;

/// <summary>One ordinary register: a partial property of the block.</summary>
/// <remarks>Immutable and equatable by value, like every model (see <see cref="BlockModel"/>).</remarks>
public sealed record RegisterModel
{
    /// <summary>Property name, e.g. "Cc".</summary>
    public required string Name { get; init; }

    /// <summary>The property's modifiers as declared, without "partial", e.g. "public".</summary>
    public required string Modifiers { get; init; }

    /// <summary>Accessor modifiers as declared ("" when none), e.g. "private".</summary>
    public required string GetterModifiers { get; init; }

    public required string SetterModifiers { get; init; }

    public required ulong Offset { get; init; }

    /// <summary>Width in bytes: 1, 2, 4 or 8.</summary>
    public required int Width { get; init; }

    public required RegisterAccess Access { get; init; }

    /// <summary>Reset value composed from the register's reset and its fields' resets.</summary>
    public required ulong Reset { get; init; }

    /// <summary>Bit fields in declaration order; empty when none are declared.</summary>
    public required EquatableArray<FieldModel> Fields { get; init; }
}
