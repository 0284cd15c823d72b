using System.Globalization;
using System.Text;

namespace ShadowIo.Generator.Tests.Robustness;

// A register block as data, printed as C# source: the robustness properties generate these.

public sealed record FieldSpec(string Name, int Bit, int Width, int Access, ulong Reset, string? EnumType);

public sealed record RegisterSpec(ulong Offset, int Width, string PropertyType, int Access, ulong Reset, FieldSpec[] Fields, bool Partial = true);

/// <summary>Kind: "Doorbell", "NotifyDoorbell" or "DoorbellArray".</summary>
public sealed record DoorbellSpec(string Kind, string Name, ulong Offset, int Width, int Count, ulong Stride, ulong? DataMatch);

public sealed record BlockSpec(ulong Size, int ShadowSize, RegisterSpec[] Registers, DoorbellSpec[] Doorbells, bool Partial = true)
{
    public string ToSource()
    {
        var text = new StringBuilder();
        text.AppendLine("using ShadowIo;");
        text.AppendLine("public enum TwoBits : byte { A = 0, B = 3 }");
        text.AppendLine("public enum Wide { Small = 1, Large = 1 << 20 }");
        text.AppendLine(Invariant($"[RegisterBlock(\"random\", {Size}UL, ShadowSize = {ShadowSize})]"));
        foreach (DoorbellSpec d in Doorbells)
        {
            text.Append(Invariant($"[{d.Kind}(\"{d.Name}\", {d.Offset}UL, {d.Width}"));
            if (d.Kind == "DoorbellArray") text.Append(Invariant($", {d.Count}, {d.Stride}UL"));
            if (d.Kind == "NotifyDoorbell" && d.DataMatch is { } match) text.Append(Invariant($", DataMatch = {match}UL"));
            text.AppendLine(")]");
        }

        text.AppendLine(Partial ? "public partial class Block" : "public class Block");
        text.AppendLine("{");
        for (int i = 0; i < Registers.Length; i++)
        {
            RegisterSpec r = Registers[i];
            text.AppendLine(Invariant($"    [Register({r.Offset}UL, {r.Width}, Access = (RegisterAccess)({r.Access}), Reset = {r.Reset}UL)]"));
            foreach (FieldSpec f in r.Fields)
            {
                string enumType = f.EnumType is null ? "" : $", EnumType = typeof({f.EnumType})";
                text.AppendLine(Invariant($"    [Field(\"{f.Name}\", {f.Bit}, {f.Width}, Access = (FieldAccess)({f.Access}), Reset = {f.Reset}UL{enumType})]"));
            }

            text.AppendLine(Invariant($"    public {(r.Partial ? "partial " : "")}{r.PropertyType} R{i} {{ get; set; }}"));
        }

        text.AppendLine("}");
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
