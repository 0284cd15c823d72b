using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Helpers;
using ShadowIo.Generator.Model;

namespace ShadowIo.Generator.Checks;

/// <summary>
/// The generated members of a block must not collide with each other or with the user's own
/// members: a register "CcEn" next to register "Cc" with field "EN", a register named
/// "BlockSize", a field "_cc". Caught here, reported at the attribute that introduces the name,
/// instead of as a duplicate-member error inside generated code.
/// </summary>
internal static class NameChecks
{
    private static readonly string[] s_blockMembers =
    [
        "BlockSize", "DoorbellTable", "DoorbellIndex", "ShadowLayout", "DoorbellReader", "CreateDoorbellRows",
        "ReadMmio", "WriteMmio", "ResetRegisters", "OnUndefinedRead", "OnUndefinedWrite", "OnDoorbellWritten",
    ];

    public static void Check(INamedTypeSymbol type, List<RegisterDeclaration> registers, List<Diagnostic> diagnostics)
    {
        var taken = new HashSet<string>(s_blockMembers);
        var registerNames = new HashSet<string>();
        foreach (RegisterDeclaration register in registers) registerNames.Add(register.Name);

        // The user's own members other than the register properties, and other than what we
        // generated (the analyzer sees those; the generator does not).
        foreach (ISymbol member in type.GetMembers())
        {
            if (member.IsImplicitlyDeclared || member is IMethodSymbol || registerNames.Contains(member.Name)) continue;
            if (!Declarations.IsGeneratedByUs(member)) taken.Add(member.Name);
        }

        foreach (RegisterDeclaration register in registers)
        {
            string[] names = register.Fields.Count == 0
                ? [register.Name, register.Name + "Offset", register.Name + "ResetValue", Identifiers.ToStorageField(register.Name)]
                : [register.Name, register.Name + "Offset", register.Name + "ResetValue", Identifiers.ToStorageField(register.Name), register.Name + "Fields"];
            if (!TakeAll(taken, names))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, register.Location, register.Name, type.Name));
            }

            var fieldNames = new HashSet<string>();
            foreach (FieldDeclaration field in register.Fields)
            {
                // Duplicates within the register are FieldChecks' to report.
                if (field.Name is null || !fieldNames.Add(field.Name)) continue;
                if (!taken.Add(register.Name + field.Name))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, field.Location, register.Name + field.Name, type.Name));
                }
            }
        }
    }

    /// <summary>
    /// Doorbell names become members of DoorbellIndex, ShadowLayout and DoorbellReader, arrays
    /// also "{Name}Count" and "{Name}Stride", next to ShadowLayout.Size: all must be distinct.
    /// </summary>
    public static void CheckDoorbells(string typeName, List<DoorbellDeclaration> doorbells, List<Diagnostic> diagnostics)
    {
        var names = new HashSet<string> { "Size" };
        foreach (DoorbellDeclaration doorbell in doorbells)
        {
            if (doorbell.Name is null) continue;
            string[] generated = doorbell.Kind == DoorbellModelKind.ValueArray
                ? [doorbell.Name, doorbell.Name + "Count", doorbell.Name + "Stride"]
                : [doorbell.Name];
            if (!TakeAll(names, generated)) diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, doorbell.Location, doorbell.DeclaredName, typeName));
        }
    }

    private static bool TakeAll(HashSet<string> taken, string[] names)
    {
        bool free = true;
        foreach (string name in names) free &= taken.Add(name);
        return free;
    }
}
