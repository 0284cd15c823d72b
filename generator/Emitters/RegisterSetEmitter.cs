using ShadowIo.Generator.Checks;
using ShadowIo.Generator.Helpers;
using ShadowIo.Generator.Model;
using static ShadowIo.Generator.RegisterBlockGenerator.Emitter;

namespace ShadowIo.Generator.Emitters;

/// <summary>
/// Writes a register array ([RegisterSet]): on the block, its geometry constants, one storage array
/// per register (element n's value at index n, touched only through <c>RegisterStorage</c> like any
/// register), the per-element hooks <c>On{Register}Written(index, previous, value)</c> and the
/// indexer <c>{Name}[n]</c>; on the user's element class, the view of one element: its registers
/// as properties over the block's storage, with their field constants and accessors. The views are
/// created once per block, on first use, so <c>Ports[n].PortSc</c> allocates nothing after that.
/// </summary>
internal static class RegisterSetEmitter
{
    public static void WriteSet(SourceWriter writer, BlockModel block, RegisterSetModel set)
    {
        string blockType = block.TypeName;
        string element = set.TypeName;
        string cache = Identifiers.ToStorageField(set.Name);
        writer.WriteLine();
        writer.WriteLine($"// Register array {Comment(set.DeclaredName)}: {Number(set.Count)} × {element}, {Offset(set.Stride)} apart from {Offset(set.Offset)}; each register's");
        writer.WriteLine("// storage is an array indexed by element, its hook gets the element's index first.");
        writer.WriteLine($"/// <summary>Offset of {Xml(set.Name)}[0] within the block.</summary>");
        writer.WriteLine($"public const ulong {set.Name}Offset = {Offset(set.Offset)};");
        writer.WriteLine($"/// <summary>Number of elements of {Xml(set.Name)}.</summary>");
        writer.WriteLine($"public const int {set.Name}Count = {Number(set.Count)};");
        writer.WriteLine($"/// <summary>Bytes from the start of one element of {Xml(set.Name)} to the next.</summary>");
        writer.WriteLine($"public const ulong {set.Name}Stride = {Offset(set.Stride)};");
        foreach (RegisterModel register in set.Registers)
        {
            string type = Widths.TypeKeyword(register.Width);
            writer.WriteLine($"private const {type} {register.Name}ResetValue = {Hex(register.Reset, register.Width)};");
            writer.WriteLine($"private readonly {type}[] {Identifiers.ToStorageField(register.Name)} = RegisterArrays.Filled({set.Name}Count, {register.Name}ResetValue);");
            writer.WriteLine($"/// <summary>{Xml(DispatchEmitter.WrittenHookSummary(register))} <paramref name=\"index\"/> is the element of {Xml(set.Name)}.</summary>");
            writer.WriteLine($"partial void On{register.Name}Written(int index, {type} previous, {type} value);");
        }

        writer.WriteLine($"private {element}[]? {cache};");
        writer.WriteLine();
        writer.WriteLine($"/// <summary>The elements of {Xml(set.Name)}: <c>{Xml(set.Name)}[n].{Xml(set.Registers[0].Name)}</c>, fields included; no allocation after the first use.</summary>");
        writer.WriteLine($"{set.Accessibility} {set.Name}Array {set.Name} => new(this);");
        writer.WriteLine();
        writer.WriteLine($"/// <summary>Indexed access to the {Number(set.Count)} elements of {Xml(set.Name)}.</summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        writer.OpenBlock($"{set.Accessibility} readonly struct {set.Name}Array");
        writer.WriteLine($"private readonly {blockType} _block;");
        writer.WriteLine();
        writer.WriteLine($"internal {set.Name}Array({blockType} block) => _block = block;");
        writer.WriteLine();
        writer.WriteLine("/// <summary>Number of elements.</summary>");
        writer.WriteLine($"public int Count => {set.Name}Count;");
        writer.WriteLine();
        writer.WriteLine($"/// <summary>Element <paramref name=\"index\"/>; throws <see cref=\"global::System.ArgumentOutOfRangeException\"/> outside 0..{Number(set.Count - 1)}.</summary>");
        writer.OpenBlock($"public {element} this[int index]");
        writer.OpenBlock("get");
        writer.WriteLine($"if ((uint)index >= (uint){set.Name}Count) throw new global::System.ArgumentOutOfRangeException(nameof(index), index, {Literal($"{set.Name} has {set.Count} elements.")});");
        writer.WriteLine($"return (global::System.Threading.Volatile.Read(ref _block.{cache}) ?? Publish(_block))[index];");
        writer.CloseBlock();
        writer.CloseBlock();
        writer.WriteLine();
        writer.WriteLine("// One view per element, made once: a racing first use keeps whichever array was published first.");
        writer.OpenBlock($"private static {element}[] Publish({blockType} block)");
        writer.WriteLine($"var elements = new {element}[{set.Name}Count];");
        writer.WriteLine($"for (int i = 0; i < elements.Length; i++) elements[i] = new {element}(block, i);");
        writer.WriteLine($"return global::System.Threading.Interlocked.CompareExchange(ref block.{cache}, elements, null) ?? elements;");
        writer.CloseBlock();
        writer.CloseBlock();

        WriteElement(writer, blockType, set);
    }

    /// <summary>The generated part of the user's element class.</summary>
    private static void WriteElement(SourceWriter writer, string blockType, RegisterSetModel set)
    {
        writer.WriteLine();
        writer.WriteLine($"/// <summary>One element of {Xml(set.Name)}: its registers are the block's storage at this element's index.</summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        writer.OpenBlock($"partial class {set.TypeName}");
        writer.WriteLine($"private readonly {blockType} _block;");
        writer.WriteLine("private readonly int _index;");
        writer.WriteLine();
        writer.WriteLine($"/// <summary>The view of element <paramref name=\"index\"/> of <paramref name=\"block\"/>'s {Xml(set.Name)}; the block makes one per element.</summary>");
        writer.OpenBlock($"internal {set.TypeName}({blockType} block, int index)");
        writer.WriteLine($"if ((uint)index >= (uint){set.Name}Count) throw new global::System.ArgumentOutOfRangeException(nameof(index), index, {Literal($"{set.Name} has {set.Count} elements.")});");
        writer.WriteLine("_block = block;");
        writer.WriteLine("_index = index;");
        writer.CloseBlock();
        writer.WriteLine();
        writer.WriteLine($"/// <summary>This element's index in {Xml(set.Name)}.</summary>");
        writer.WriteLine("public int Index => _index;");
        foreach (RegisterModel register in set.Registers)
        {
            string type = Widths.TypeKeyword(register.Width);
            string storage = $"_block.{Identifiers.ToStorageField(register.Name)}[_index]";
            writer.WriteLine();
            writer.WriteLine($"/// <summary>Offset of {register.Name} within one element: {register.Width} byte{(register.Width == 1 ? "" : "s")}, {register.Access}.</summary>");
            writer.WriteLine($"public const ulong {register.Name}Offset = {Offset(register.Offset)};");
            writer.WriteLine($"{Prefix(register.Modifiers)}partial {type} {Identifiers.Escape(register.Name)} {{ {Prefix(register.GetterModifiers)}get => {Storage}.Load(ref {storage}); {Prefix(register.SetterModifiers)}set => {Storage}.Store(ref {storage}, value); }}");
            if (!register.Fields.IsEmpty) FieldEmitter.WriteFields(writer, register.Name, register.Width, register.Fields, storage);
        }

        writer.CloseBlock();
    }

    /// <summary>Every element's registers back to their reset values, one store each.</summary>
    public static void WriteReset(SourceWriter writer, RegisterSetModel set)
    {
        writer.OpenBlock($"for (int i = 0; i < {set.Name}Count; i++)");
        foreach (RegisterModel register in set.Registers)
        {
            writer.WriteLine($"{Storage}.Store(ref {Identifiers.ToStorageField(register.Name)}[i], {register.Name}ResetValue);");
        }

        writer.CloseBlock();
    }

    private static string Prefix(string modifiers) => modifiers.Length == 0 ? "" : modifiers + " ";
}
