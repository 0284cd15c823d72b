using ShadowIo.Generator.Checks;
using ShadowIo.Generator.Helpers;
using ShadowIo.Generator.Model;
using static ShadowIo.Generator.RegisterBlockGenerator.Emitter;

namespace ShadowIo.Generator.Emitters;

/// <summary>
/// Writes the doorbell side of a block: the ioeventfd registration table, <c>DoorbellIndex</c>,
/// the shadow-page layout and the typed <c>DoorbellReader</c>.
/// </summary>
internal static class DoorbellEmitter
{
    private const string Ns = "global::ShadowIo.";

    public static void WriteDoorbells(SourceWriter writer, BlockModel block)
    {
        WriteTable(writer, block);
        WriteIndex(writer, block);
        WriteShadowLayout(writer, block);
        WriteReader(writer, block);
    }

    private static void WriteTable(SourceWriter writer, BlockModel block)
    {
        writer.WriteLine();
        writer.WriteLine("/// <summary>The block's ioeventfd registration table: one row per doorbell, arrays expanded, in declaration order.</summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        string space = block.AddressSpace == AddressSpace.Port ? $" {{ AddressSpace = {Ns}AddressSpace.Port }}" : "";
        writer.WriteLine($"public static {Ns}DoorbellTable DoorbellTable {{ get; }} = new({Literal(block.BlockName)}, BlockSize, ShadowLayout.Size, CreateDoorbellRows()){space};");
        writer.WriteLine();
        writer.OpenBlock($"private static {Ns}DoorbellEntry[] CreateDoorbellRows()");
        if (block.Doorbells.IsEmpty)
        {
            writer.WriteLine($"return global::System.Array.Empty<{Ns}DoorbellEntry>();");
            writer.CloseBlock();
            return;
        }

        writer.WriteLine($"var rows = new {Ns}DoorbellEntry[{Number(block.DoorbellRowCount)}];");
        foreach (DoorbellModel doorbell in block.Doorbells)
        {
            string name = Literal(doorbell.DeclaredName);
            string width = Number(doorbell.Width);
            switch (doorbell.Kind)
            {
                case DoorbellModelKind.Value:
                    writer.WriteLine($"rows[DoorbellIndex.{doorbell.Name}] = new({name}, 0, {Offset(doorbell.Offset)}, {width}, {Ns}DoorbellKind.Value, false, 0UL, ShadowLayout.{doorbell.Name});");
                    break;
                case DoorbellModelKind.Notify:
                    string match = doorbell.HasDataMatch ? "true" : "false";
                    writer.WriteLine($"rows[DoorbellIndex.{doorbell.Name}] = new({name}, 0, {Offset(doorbell.Offset)}, {width}, {Ns}DoorbellKind.Notify, {match}, {Offset(doorbell.DataMatch)}, -1);");
                    break;
                default:
                    writer.OpenBlock($"for (int i = 0; i < DoorbellIndex.{doorbell.Name}Count; i++)");
                    writer.WriteLine($"rows[DoorbellIndex.{doorbell.Name} + i] = new({name}, i, {Offset(doorbell.Offset)} + ((ulong)i * {Offset(doorbell.Stride)}), {width}, {Ns}DoorbellKind.Value, false, 0UL, ShadowLayout.{doorbell.Name} + (i * ShadowLayout.{doorbell.Name}Stride));");
                    writer.CloseBlock();
                    break;
            }
        }

        writer.WriteLine("return rows;");
        writer.CloseBlock();
    }

    private static void WriteIndex(SourceWriter writer, BlockModel block)
    {
        writer.WriteLine();
        writer.WriteLine("/// <summary>Row of each doorbell in <see cref=\"DoorbellTable\"/>; array element i is at the array's row + i.</summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        writer.OpenBlock("public static class DoorbellIndex");
        foreach (DoorbellModel doorbell in block.Doorbells)
        {
            writer.WriteLine($"/// <summary>{Xml(doorbell.DeclaredName)} at 0x{doorbell.Offset:X}.</summary>");
            writer.WriteLine($"public const int {doorbell.Name} = {Number(doorbell.FirstRow)};");
            if (doorbell.Kind == DoorbellModelKind.ValueArray)
            {
                writer.WriteLine($"/// <summary>Elements of {Xml(doorbell.DeclaredName)}.</summary>");
                writer.WriteLine($"public const int {doorbell.Name}Count = {Number(doorbell.Count)};");
            }
        }

        writer.CloseBlock();
    }

    private static void WriteShadowLayout(SourceWriter writer, BlockModel block)
    {
        writer.WriteLine();
        writer.WriteLine("/// <summary>");
        writer.WriteLine("/// Where each value doorbell lives in the shadow page: doorbell offset − lowest value-doorbell offset,");
        writer.WriteLine("/// strides preserved (for NVMe, the Doorbell Buffer Config shadow buffer layout).");
        writer.WriteLine("/// </summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        writer.OpenBlock("public static class ShadowLayout");
        writer.WriteLine("/// <summary>Bytes the value doorbells occupy.</summary>");
        writer.WriteLine($"public const int Size = {Number(block.ShadowLayoutSize)};");
        foreach (DoorbellModel doorbell in block.Doorbells)
        {
            if (doorbell.Kind == DoorbellModelKind.Notify) continue;
            writer.WriteLine($"/// <summary>Shadow offset of {Xml(doorbell.DeclaredName)}{(doorbell.Kind == DoorbellModelKind.ValueArray ? " element 0" : "")}.</summary>");
            writer.WriteLine($"public const int {doorbell.Name} = {Number(doorbell.ShadowOffset)};");
            if (doorbell.Kind == DoorbellModelKind.ValueArray)
            {
                writer.WriteLine($"/// <summary>Bytes between elements of {Xml(doorbell.DeclaredName)}.</summary>");
                writer.WriteLine($"public const int {doorbell.Name}Stride = {Number((long)doorbell.Stride)};");
            }
        }

        writer.CloseBlock();
    }

    private static void WriteReader(SourceWriter writer, BlockModel block)
    {
        writer.WriteLine();
        writer.WriteLine("/// <summary>Reads current doorbell values from a shadow region in this block's layout: volatile, no allocation.</summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        writer.OpenBlock("public readonly struct DoorbellReader");
        writer.WriteLine($"private readonly {Ns}ShadowRegion _shadow;");
        writer.WriteLine();
        writer.WriteLine("/// <exception cref=\"global::System.ArgumentException\">The region is shorter than <see cref=\"ShadowLayout.Size\"/>.</exception>");
        writer.OpenBlock($"public DoorbellReader({Ns}ShadowRegion shadow)");
        writer.OpenBlock("if (shadow.Length < ShadowLayout.Size)");
        writer.WriteLine($"throw new global::System.ArgumentException($\"The shadow region has {{shadow.Length}} bytes; the {Escape(block.BlockName).Replace("{", "{{").Replace("}", "}}")} layout needs {{ShadowLayout.Size}}.\", nameof(shadow));");
        writer.CloseBlock();
        writer.WriteLine();
        writer.WriteLine("_shadow = shadow;");
        writer.CloseBlock();

        bool hasArray = false;
        foreach (DoorbellModel doorbell in block.Doorbells)
        {
            if (doorbell.Kind == DoorbellModelKind.Notify) continue;
            string type = Widths.TypeKeyword(doorbell.Width);
            string read = ReadMethod(doorbell.Width);
            writer.WriteLine();
            if (doorbell.Kind == DoorbellModelKind.Value)
            {
                writer.WriteLine($"/// <summary>Current value of {Xml(doorbell.DeclaredName)}.</summary>");
                writer.WriteLine($"public {type} {doorbell.Name} => _shadow.{read}(ShadowLayout.{doorbell.Name});");
                continue;
            }

            hasArray = true;
            writer.WriteLine($"/// <summary>Current value of {Xml(doorbell.DeclaredName)} element <paramref name=\"index\"/>; callers validate guest-supplied indexes first.</summary>");
            writer.WriteLine("/// <exception cref=\"global::System.ArgumentOutOfRangeException\">The index is not an element of the array.</exception>");
            writer.OpenBlock($"public {type} {doorbell.Name}(int index)");
            writer.WriteLine($"if ((uint)index >= (uint)DoorbellIndex.{doorbell.Name}Count) ThrowIndexOutOfRange(index, DoorbellIndex.{doorbell.Name}Count);");
            writer.WriteLine($"return _shadow.{read}(ShadowLayout.{doorbell.Name} + (index * ShadowLayout.{doorbell.Name}Stride));");
            writer.CloseBlock();
        }

        if (hasArray)
        {
            writer.WriteLine();
            writer.WriteLine("[global::System.Diagnostics.CodeAnalysis.DoesNotReturn]");
            writer.WriteLine("private static void ThrowIndexOutOfRange(int index, int count) =>");
            writer.WriteLine("    throw new global::System.ArgumentOutOfRangeException(nameof(index), index, $\"The doorbell array has {count} elements.\");");
        }

        writer.CloseBlock();
    }

    private static string ReadMethod(int width) => width switch
    {
        1 => "ReadByte",
        2 => "ReadUInt16",
        4 => "ReadUInt32",
        _ => "ReadUInt64",
    };
}
