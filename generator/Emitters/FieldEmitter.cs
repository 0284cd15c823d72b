using ShadowIo.Generator.Checks;
using ShadowIo.Generator.Helpers;
using ShadowIo.Generator.Model;
using static ShadowIo.Generator.RegisterBlockGenerator.Emitter;

namespace ShadowIo.Generator.Emitters;

/// <summary>
/// Writes a register's field constants (<c>{Reg}Fields.{Field}Shift/Mask</c>) and the typed
/// device-side accessors <c>{Reg}{Field}</c> (issue 6): a getter is one load, a setter one atomic
/// update of the register that replaces just the field's bits (<c>RegisterStorage.Replace</c>).
/// </summary>
internal static class FieldEmitter
{
    public static void WriteFields(SourceWriter writer, RegisterModel register) =>
        WriteFields(writer, register.Name, register.Width, register.Fields, Identifiers.ToStorageField(register.Name));

    /// <summary>The fields of register <paramref name="name"/>, <paramref name="width"/> bytes wide, stored in <paramref name="storage"/>.</summary>
    public static void WriteFields(SourceWriter writer, string name, int width, EquatableArray<FieldModel> fields, string storage)
    {
        var register = new FieldOwner(name, width, storage);
        string type = Widths.TypeKeyword(register.Width);
        writer.WriteLine();
        writer.WriteLine($"/// <summary>Bit positions and masks of {register.Name}'s fields (masks already shifted).</summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        writer.OpenBlock($"public static class {register.Name}Fields");
        bool first = true;
        foreach (FieldModel field in fields)
        {
            if (!first) writer.WriteLine();
            first = false;
            writer.WriteLine($"/// <summary>{Xml(field.DeclaredName)}: {Bits(field)}, {field.Access}.</summary>");
            writer.WriteLine($"public const int {field.Name}Shift = {Number(field.Bit)};");
            writer.WriteLine($"/// <summary>{Xml(field.DeclaredName)}'s bits within {register.Name}, already shifted.</summary>");
            writer.WriteLine($"public const {type} {field.Name}Mask = {Hex(Widths.LowMask(field.Width) << field.Bit, register.Width)};");
        }

        writer.CloseBlock();
        foreach (FieldModel field in fields) WriteAccessor(writer, register, field);
    }

    private static void WriteAccessor(SourceWriter writer, FieldOwner register, FieldModel field)
    {
        string type = Widths.TypeKeyword(register.Width);
        string storage = register.Storage;
        string load = $"RegisterStorage.Load(ref {storage})";
        string mask = $"{register.Name}Fields.{field.Name}Mask";
        string shift = $"{register.Name}Fields.{field.Name}Shift";
        bool narrow = register.Width < 4; // byte and ushort arithmetic widens to int
        string Narrow(string expression) => narrow ? $"({type})({expression})" : expression;
        string Replace(string bits) => $"RegisterStorage.Replace(ref {storage}, {mask}, {bits});";

        writer.WriteLine();
        writer.WriteLine($"/// <summary>{register.Name}.{Xml(field.DeclaredName)}, {Bits(field)} of the stored value (no access rules); setting it is one atomic update of {register.Name} that changes only these bits.</summary>");
        if (field.EnumType is not null)
        {
            writer.OpenBlock($"public {field.EnumType} {register.Name}{field.Name}");
            writer.WriteLine($"get => ({field.EnumType})(({load} & {mask}) >> {shift});");
            writer.WriteLine($"set => {Replace(Narrow($"({type})value << {shift}"))}");
        }
        else if (field.Width == 1)
        {
            writer.OpenBlock($"public bool {register.Name}{field.Name}");
            writer.WriteLine($"get => ({load} & {mask}) != 0;");
            writer.WriteLine($"set => {Replace($"value ? {mask} : {Zero(register.Width)}")}");
        }
        else
        {
            writer.OpenBlock($"public {type} {register.Name}{field.Name}");
            writer.WriteLine($"get => {Narrow($"({load} & {mask}) >> {shift}")};");
            writer.WriteLine($"set => {Replace(Narrow($"value << {shift}"))}");
        }

        writer.CloseBlock();
    }

    /// <summary>The register a field belongs to, as far as its accessors care.</summary>
    private readonly record struct FieldOwner(string Name, int Width, string Storage);

    /// <summary>Zero of the register's type (a bare 0 would make a byte conditional ambiguous).</summary>
    private static string Zero(int width) => width switch { 8 => "0UL", 4 => "0U", _ => $"({Widths.TypeKeyword(width)})0" };

    private static string Bits(FieldModel field) =>
        field.Width == 1 ? $"bit {Number(field.Bit)}" : $"bits {Number(field.Bit)}..{Number(field.Bit + field.Width - 1)}";
}
