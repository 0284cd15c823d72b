namespace ShadowIo;

/// <summary>
/// Declares a register array: a <c>partial class</c> nested in a register block whose
/// <see cref="RegisterAttribute"/> properties (offsets relative to one element) repeat
/// <paramref name="count"/> times, <paramref name="stride"/> bytes apart, from
/// <paramref name="offset"/>: xHCI's port register sets (PORTSC, PORTPMSC, PORTLI, PORTHLPMC at
/// 0x400 + 0x10 × n), its interrupter register sets, an MSI-X table's 16-byte entries. A single
/// repeated register is a set of one. The generator checks every element like a single register
/// and emits <c>{Name}[n]</c>, an element view of the class's type with the registers and their
/// field accessors (one instance per element, created once: indexing allocates nothing), hooks
/// <c>On{Register}Written(index, previous, value)</c> on the block, and the indexed MMIO dispatch.
/// </summary>
/// <param name="name">The array's name; the block's generated members are named after it (e.g. <c>"Ports"</c> gives <c>Ports[n]</c>).</param>
/// <param name="offset">Byte offset of element 0 within the block.</param>
/// <param name="count">Number of elements, at least 1.</param>
/// <param name="stride">Bytes from one element to the next: at least the bytes the element's registers span.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)] // a struct gets SHIO027, not CS0592
public sealed class RegisterSetAttribute(string name, ulong offset, int count, ulong stride) : Attribute
{
    /// <summary>The array's name as declared.</summary>
    public string Name { get; } = name;

    /// <summary>Byte offset of element 0 within the block.</summary>
    public ulong Offset { get; } = offset;

    /// <summary>Number of elements.</summary>
    public int Count { get; } = count;

    /// <summary>Bytes between the starts of consecutive elements.</summary>
    public ulong Stride { get; } = stride;
}
