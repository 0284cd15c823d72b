using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Model;

namespace ShadowIo.Generator.Checks;

/// <summary>
/// Checks of a register's bit fields (issue 6): widths, bounds, overlaps, reset and enum values,
/// and access modes against the register's access. Reports at the offending [Field].
/// </summary>
internal static class FieldChecks
{
    public static void Check(RegisterDeclaration register, List<Diagnostic> diagnostics)
    {
        int registerBits = register.Width * 8;
        var placed = new List<FieldDeclaration>();
        var names = new HashSet<string>();
        foreach (FieldDeclaration field in register.Fields)
        {
            if (field.Name is null)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidName, field.Location, field.DeclaredName));
            }
            else if (!names.Add(field.Name))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, field.Location, field.DeclaredName, register.Name));
            }

            CheckAccess(register, field, diagnostics);

            if (field.Width <= 0)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.FieldZeroWidth, field.Location, field.DeclaredName, field.Width));
                continue;
            }

            if (field.Bit < 0 || (long)field.Bit + field.Width > registerBits)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.FieldBeyondRegister, field.Location,
                    field.DeclaredName, field.Bit, field.Width, registerBits, register.Name));
                continue;
            }

            if (field.HasReset && !Widths.Fits(field.Reset, field.Width))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ResetTooWide, field.Location, field.DeclaredName, field.Reset, field.Width));
            }

            CheckEnum(field, diagnostics);

            foreach (FieldDeclaration other in placed)
            {
                if (field.Bit < other.Bit + other.Width && other.Bit < field.Bit + field.Width)
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.FieldOverlap, field.Location,
                        field.DeclaredName, field.Bit, field.Bit + field.Width - 1,
                        other.DeclaredName, other.Bit, other.Bit + other.Width - 1, register.Name));
                }
            }

            placed.Add(field);
        }
    }

    private static void CheckAccess(RegisterDeclaration register, FieldDeclaration field, List<Diagnostic> diagnostics)
    {
        if (field.Access is < 0 or > (int)FieldAccess.ReadToClear)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UndefinedAccess, field.Location, field.DeclaredName, field.Access, "FieldAccess"));
            return;
        }

        var fieldAccess = (FieldAccess)field.Access;
        bool onlyRead = fieldAccess is FieldAccess.ReadOnly or FieldAccess.ReadToClear;

        // Clear-only fields (NVMe CSTS.NSSRO is write-1-to-clear) belong in read-only status
        // registers: the guest can acknowledge them but never set a value.
        bool clearOnly = fieldAccess is FieldAccess.WriteOneToClear or FieldAccess.WriteZeroToClear;
        switch ((RegisterAccess)register.Access)
        {
            case RegisterAccess.ReadOnly when !onlyRead && !clearOnly:
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.WritableFieldInReadOnlyRegister, field.Location,
                    field.DeclaredName, fieldAccess, register.Name));
                break;
            case RegisterAccess.WriteOnly when onlyRead:
            case RegisterAccess.WriteOneToClear when !onlyRead && fieldAccess != FieldAccess.WriteOneToClear:
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.ContradictoryModes, field.Location,
                    field.DeclaredName, fieldAccess, register.Name, (RegisterAccess)register.Access));
                break;
        }
    }

    private static void CheckEnum(FieldDeclaration field, List<Diagnostic> diagnostics)
    {
        if (field.EnumType is null) return;
        if (field.EnumType.TypeKind != TypeKind.Enum)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.EnumTooWide, field.Location,
                field.DeclaredName, field.EnumType.ToDisplayString(), "(not an enum type)", field.Width));
            return;
        }

        foreach (ISymbol member in field.EnumType.GetMembers())
        {
            if (member is not IFieldSymbol { HasConstantValue: true } constant) continue;
            if (!TryToUnsigned(constant.ConstantValue, out ulong value) || !Widths.Fits(value, field.Width))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.EnumTooWide, field.Location,
                    field.DeclaredName, field.EnumType.ToDisplayString(), constant.Name, field.Width));
                return;
            }
        }
    }

    /// <summary>An enum constant as an unsigned value; negative values never fit a field.</summary>
    private static bool TryToUnsigned(object? value, out ulong result)
    {
        result = 0;
        switch (value)
        {
            case byte b: result = b; return true;
            case ushort u16: result = u16; return true;
            case uint u32: result = u32; return true;
            case ulong u64: result = u64; return true;
            case sbyte s8 when s8 >= 0: result = (ulong)s8; return true;
            case short s16 when s16 >= 0: result = (ulong)s16; return true;
            case int s32 when s32 >= 0: result = (ulong)s32; return true;
            case long s64 when s64 >= 0: result = (ulong)s64; return true;
            default: return false;
        }
    }
}
