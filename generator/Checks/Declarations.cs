using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Model;

namespace ShadowIo.Generator.Checks;

// What the parser read from the attributes, with the attribute's location for diagnostics.
// These live only while one block is parsed and checked; they never enter the pipeline's cache.

/// <summary>A [Register] property as written.</summary>
internal sealed class RegisterDeclaration
{
    public required string Name { get; init; }
    public required Location Location { get; init; }
    public required ulong Offset { get; init; }
    public required int Width { get; init; }
    public required int Access { get; init; }
    public required ulong Reset { get; init; }
    public required SpecialType PropertyType { get; init; }
    public required string PropertyTypeName { get; init; }

    /// <summary>The compiler could not resolve the property's type (and reports that itself).</summary>
    public required bool IsPropertyTypeUnresolved { get; init; }
    public required bool IsPartialDeclaration { get; init; }
    public required string Modifiers { get; init; }
    public required string GetterModifiers { get; init; }
    public required string SetterModifiers { get; init; }
    public required List<FieldDeclaration> Fields { get; init; }
}

/// <summary>A [Field] on a register property as written.</summary>
internal sealed class FieldDeclaration
{
    public required string DeclaredName { get; init; }
    public required string? Name { get; init; }
    public required Location Location { get; init; }
    public required int Bit { get; init; }
    public required int Width { get; init; }
    public required int Access { get; init; }
    public required ulong Reset { get; init; }
    public required bool HasReset { get; init; }
    public required ITypeSymbol? EnumType { get; init; }
}

/// <summary>A [Doorbell], [NotifyDoorbell] or [DoorbellArray] on the block class as written.</summary>
internal sealed class DoorbellDeclaration
{
    public required string DeclaredName { get; init; }
    public required string? Name { get; init; }
    public required Location Location { get; init; }
    public required DoorbellModelKind Kind { get; init; }
    public required ulong Offset { get; init; }
    public required int Width { get; init; }
    public required int Count { get; init; }
    public required ulong Stride { get; init; }
    public required bool HasDataMatch { get; init; }
    public required ulong DataMatch { get; init; }

    /// <summary>Set by the layout checks: the element offsets can be computed without overflow.</summary>
    public bool IsWellFormed { get; set; }

    /// <summary>Offset of the last element's first byte (valid when <see cref="IsWellFormed"/>).</summary>
    public ulong LastOffset { get; set; }
}

/// <summary>A [RegisterSet] class nested in the block as written: its registers' offsets are relative to one element.</summary>
internal sealed class RegisterSetDeclaration
{
    public required string DeclaredName { get; init; }
    public required string? Name { get; init; }
    public required Location Location { get; init; }

    /// <summary>The element class's name, e.g. "PortRegisters".</summary>
    public required string TypeName { get; init; }

    /// <summary>A non-static, non-abstract, non-generic partial class (not a record) directly inside the block.</summary>
    public required bool IsPartialClass { get; init; }

    /// <summary>The class's declared accessibility as C# keywords, e.g. "public": the block's accessor for the array repeats it.</summary>
    public required string Accessibility { get; init; }
    public required ulong Offset { get; init; }
    public required int Count { get; init; }
    public required ulong Stride { get; init; }
    public required List<RegisterDeclaration> Registers { get; init; }

    /// <summary>Set by the layout checks: the elements' offsets can be computed without overflow.</summary>
    public bool IsWellFormed { get; set; }

    /// <summary>Bytes one element's registers span from the element's start (valid when <see cref="IsWellFormed"/>).</summary>
    public ulong Span { get; set; }
}
