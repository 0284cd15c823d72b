using ShadowIo.Generator.Helpers;

namespace ShadowIo.Generator.Model;

/// <summary>Everything the emitter needs to write one register block's partial class.</summary>
/// <remarks>
/// Models hold only strings, numbers, enums and <see cref="EquatableArray{T}"/>, never a symbol,
/// syntax node, location or compilation, and are immutable records: the incremental pipeline
/// compares a new model with the cached one by value, and anything compared by reference (or
/// anything that keeps a compilation alive) would make every edit regenerate every block.
/// </remarks>
public sealed record BlockModel
{
    /// <summary>Namespace of the block type, empty for the global namespace.</summary>
    public required string Namespace { get; init; }

    /// <summary>Declarations of the enclosing types, outermost first, e.g. "partial class Devices".</summary>
    public required EquatableArray<string> ContainingTypes { get; init; }

    /// <summary>The block type's name as written in a declaration, with type parameters.</summary>
    public required string TypeName { get; init; }

    /// <summary>Unique hint name of the generated file.</summary>
    public required string HintName { get; init; }

    /// <summary>The block's declared name, e.g. "NVMe BAR0".</summary>
    public required string BlockName { get; init; }

    public required ulong Size { get; init; }

    /// <summary>MMIO, or x86 port I/O (the doorbell table says so; bindings register with KVM_IOEVENTFD_FLAG_PIO).</summary>
    public required AddressSpace AddressSpace { get; init; }

    /// <summary>Bytes the value doorbells occupy in the shadow layout.</summary>
    public required int ShadowLayoutSize { get; init; }

    public required EquatableArray<RegisterModel> Registers { get; init; }

    /// <summary>Doorbells in declaration order.</summary>
    public required EquatableArray<DoorbellModel> Doorbells { get; init; }

    /// <summary>Rows of the doorbell table (array elements expanded).</summary>
    public required int DoorbellRowCount { get; init; }
}
