using ShadowIo.Generator.Helpers;

namespace ShadowIo.Generator.Model;

/// <summary>One register array: a nested partial class whose registers repeat Count times, Stride bytes apart.</summary>
/// <remarks>Immutable and equatable by value, like every model (see <see cref="BlockModel"/>).</remarks>
public sealed record RegisterSetModel
{
    /// <summary>Name as declared, e.g. "Ports".</summary>
    public required string DeclaredName { get; init; }

    /// <summary>PascalCased identifier of the block's accessor, e.g. "Ports".</summary>
    public required string Name { get; init; }

    /// <summary>The element class's name, e.g. "PortRegisters".</summary>
    public required string TypeName { get; init; }

    /// <summary>The element class's accessibility as declared, e.g. "public": the block's accessor repeats it.</summary>
    public required string Accessibility { get; init; }

    /// <summary>Offset of element 0 within the block.</summary>
    public required ulong Offset { get; init; }

    public required int Count { get; init; }

    public required ulong Stride { get; init; }

    /// <summary>Bytes one element's registers span from its start (≤ Stride).</summary>
    public required ulong Span { get; init; }

    /// <summary>The element's registers, offsets relative to the element.</summary>
    public required EquatableArray<RegisterModel> Registers { get; init; }
}
