using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace ShadowIo.Generator.Tests.Robustness;

// A register block as data, printed as C# source: the robustness properties generate these.

public sealed record FieldSpec(string Name, int Bit, int Width, int Access, ulong Reset, string? EnumType);

public sealed record RegisterSpec(ulong Offset, int Width, string PropertyType, int Access, ulong Reset, FieldSpec[] Fields, bool Partial = true);

/// <summary>Kind: "Doorbell", "NotifyDoorbell" or "DoorbellArray".</summary>
public sealed record DoorbellSpec(string Kind, string Name, ulong Offset, int Width, int Count, ulong Stride, ulong? DataMatch);

public sealed record BlockSpec(ulong Size, int ShadowSize, RegisterSpec[] Registers, DoorbellSpec[] Doorbells, bool Partial = true)
{
    /// <summary>[Field]s on plain properties of the block (no [Register]): each one is SHIO024.</summary>
    public FieldSpec[] StrayFields { get; init; } = [];

    /// <summary>The block's AddressSpace as a raw value; 0 (MMIO) leaves it out of the attribute.</summary>
    public int AddressSpace { get; init; }

    /// <summary>The file name <see cref="Infrastructure.GeneratorHarness"/> gives the first source.</summary>
    public const string FilePath = "Source0.cs";

    public BlockSource ToSource()
    {
        var text = new StringBuilder();
        var spans = new Dictionary<SpecElement, TextSpan>();

        // "[" + attribute + "]": the span is the attribute without its brackets, which is where
        // the analyzer reports (AttributeData.ApplicationSyntaxReference).
        void Attribute(string indent, SpecElement element, string attribute)
        {
            text.Append(indent).Append('[');
            spans.Add(element, new TextSpan(text.Length, attribute.Length));
            text.Append(attribute).AppendLine("]");
        }

        text.AppendLine("using ShadowIo;");
        text.AppendLine("public enum TwoBits : byte { A = 0, B = 3 }");
        text.AppendLine("public enum Wide { Small = 1, Large = 1 << 20 }");
        Attribute("", SpecElement.BlockAttribute, Invariant($"RegisterBlock(\"random\", {Size}UL, ShadowSize = {ShadowSize}{(AddressSpace == 0 ? "" : $", AddressSpace = (AddressSpace)({AddressSpace})")})"));
        for (int i = 0; i < Doorbells.Length; i++)
        {
            DoorbellSpec d = Doorbells[i];
            var attribute = new StringBuilder(Invariant($"{d.Kind}(\"{d.Name}\", {d.Offset}UL, {d.Width}"));
            if (d.Kind == "DoorbellArray") attribute.Append(Invariant($", {d.Count}, {d.Stride}UL"));
            if (d.Kind == "NotifyDoorbell" && d.DataMatch is { } match) attribute.Append(Invariant($", DataMatch = {match}UL"));
            attribute.Append(')');
            Attribute("", SpecElement.Doorbell(i), attribute.ToString());
        }

        text.AppendLine(Partial ? "public partial class Block" : "public class Block");
        text.AppendLine("{");
        for (int i = 0; i < Registers.Length; i++)
        {
            RegisterSpec r = Registers[i];
            Attribute("    ", SpecElement.Register(i), Invariant($"Register({r.Offset}UL, {r.Width}, Access = (RegisterAccess)({r.Access}), Reset = {r.Reset}UL)"));
            for (int j = 0; j < r.Fields.Length; j++)
            {
                Attribute("    ", SpecElement.Field(i, j), FieldAttribute(r.Fields[j]));
            }

            text.AppendLine(Invariant($"    public {(r.Partial ? "partial " : "")}{r.PropertyType} R{i} {{ get; set; }}"));
        }

        for (int i = 0; i < StrayFields.Length; i++)
        {
            Attribute("    ", SpecElement.StrayField(i), FieldAttribute(StrayFields[i]));
            text.AppendLine(Invariant($"    public uint Plain{i} {{ get; set; }}"));
        }

        text.AppendLine("}");
        return new BlockSource(text.ToString(), spans);
    }

    private static string FieldAttribute(FieldSpec f)
    {
        string enumType = f.EnumType is null ? "" : $", EnumType = typeof({f.EnumType})";
        return Invariant($"Field(\"{f.Name}\", {f.Bit}, {f.Width}, Access = (FieldAccess)({f.Access}), Reset = {f.Reset}UL{enumType})");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

public enum SpecElementKind
{
    BlockAttribute,
    Register,
    Field,
    Doorbell,
    StrayField,
}

/// <summary>
/// One attribute of a <see cref="BlockSpec"/>: the [RegisterBlock], register i's [Register], its
/// field j's [Field], doorbell i's attribute, or stray field i's [Field].
/// </summary>
public readonly record struct SpecElement(SpecElementKind Kind, int Index, int FieldIndex = 0)
{
    public static SpecElement BlockAttribute => new(SpecElementKind.BlockAttribute, 0);

    public static SpecElement Register(int index) => new(SpecElementKind.Register, index);

    public static SpecElement Field(int register, int field) => new(SpecElementKind.Field, register, field);

    public static SpecElement Doorbell(int index) => new(SpecElementKind.Doorbell, index);

    public static SpecElement StrayField(int index) => new(SpecElementKind.StrayField, index);

    public override string ToString() => Kind switch
    {
        SpecElementKind.BlockAttribute => "[RegisterBlock]",
        SpecElementKind.Register => $"[Register] of R{Index}",
        SpecElementKind.Field => $"[Field] #{FieldIndex} of R{Index}",
        SpecElementKind.Doorbell => $"doorbell attribute #{Index}",
        _ => $"[Field] of Plain{Index}",
    };
}

/// <summary>A <see cref="BlockSpec"/> printed as source, with the span of every attribute in it.</summary>
public sealed record BlockSource(string Text, IReadOnlyDictionary<SpecElement, TextSpan> Spans)
{
    /// <summary>"Source0.cs(12,6) `Register(256UL, 3, …)`": where an element is, for failure messages.</summary>
    public string Describe(TextSpan span)
    {
        LinePosition start = SourceText.From(Text).Lines.GetLinePosition(span.Start);
        string snippet = span.End <= Text.Length ? Text.Substring(span.Start, span.Length) : "?";
        return Invariant($"{BlockSpec.FilePath}({start.Line + 1},{start.Character + 1}) `{snippet}`");
    }

    public override string ToString() => Text;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
