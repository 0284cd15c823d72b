using ShadowIo.Generator.Helpers;

namespace ShadowIo.Generator.Model;

/// <summary>
/// What a block with layout errors still generates: the implementing parts its own declarations
/// need (register storage, field accessors, hook definitions) and nothing that depends on the
/// layout being right (no doorbell table, shadow layout or dispatch).
/// </summary>
/// <remarks>
/// Why at all: <c>csc</c> does not run analyzers once declarations have errors, so a partial
/// property left without its implementing part (CS9248) would hide every SHIO diagnostic from a
/// command-line build. Immutable and equatable by value, like every model (see <see cref="BlockModel"/>).
/// </remarks>
public sealed record InvalidBlockModel
{
    public required string Namespace { get; init; }

    public required EquatableArray<string> ContainingTypes { get; init; }

    public required string TypeName { get; init; }

    public required string HintName { get; init; }

    public required string BlockName { get; init; }

    /// <summary>The declared size, or null when the compiler could not bind it or the user's own member is called BlockSize.</summary>
    public required ulong? Size { get; init; }

    public required EquatableArray<ImplementedRegisterModel> Registers { get; init; }

    /// <summary>The partial element classes of the block's register sets, each with its properties' parts.</summary>
    public required EquatableArray<ImplementedSetModel> RegisterSets { get; init; }

    /// <summary>Definitions of the partial hook methods, each with the signature the user's implementation (if any) has.</summary>
    public required EquatableArray<HookModel> Hooks { get; init; }

    /// <summary>
    /// The nested types a valid block has (DoorbellIndex, ShadowLayout, DoorbellReader) whose names
    /// the user's members leave free: generated empty, so that a declaration naming one (a field of
    /// type <c>Block.DoorbellReader</c>) is not a declaration error that hides the SHIO diagnostics.
    /// </summary>
    public required EquatableArray<string> EmptyNestedTypes { get; init; }
}

/// <summary>The implementing part of one partial register property of an invalid block.</summary>
/// <remarks>Immutable and equatable by value, like every model (see <see cref="BlockModel"/>).</remarks>
public sealed record ImplementedRegisterModel
{
    public required string Name { get; init; }

    public required string Modifiers { get; init; }

    public required string GetterModifiers { get; init; }

    public required string SetterModifiers { get; init; }

    /// <summary>The property's type as declared, fully qualified: the implementation must repeat it, right or wrong.</summary>
    public required string TypeName { get; init; }

    /// <summary>The storage field's name, chosen so it collides with no member of the user's.</summary>
    public required string StorageName { get; init; }

    /// <summary>The declared offset, or null when it did not bind or its constant's name is the user's.</summary>
    public required ulong? Offset { get; init; }

    /// <summary>Bytes of the property's type when it is byte, ushort, uint or ulong (atomic storage, fields); 0 otherwise.</summary>
    public required int Width { get; init; }

    /// <summary>The fields whose accessors are well defined on <see cref="Width"/> (in range, no overlap, names free).</summary>
    public required EquatableArray<FieldModel> Fields { get; init; }
}

/// <summary>The generated part of one register set's element type in an invalid block.</summary>
/// <remarks>Immutable and equatable by value, like every model (see <see cref="BlockModel"/>).</remarks>
public sealed record ImplementedSetModel
{
    /// <summary>"class", or "struct" for a set declared as a struct (SHIO027): its part must repeat the kind.</summary>
    public required string TypeKeyword { get; init; }

    public required string TypeName { get; init; }

    public required EquatableArray<ImplementedRegisterModel> Registers { get; init; }
}

/// <summary>A partial method definition: its name and its parameter list as written between the parentheses.</summary>
public sealed record HookModel
{
    public required string Name { get; init; }

    public required string Parameters { get; init; }

    /// <summary>Documentation of the hook, one line.</summary>
    public required string Summary { get; init; }
}
