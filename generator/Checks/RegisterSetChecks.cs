using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Helpers;

namespace ShadowIo.Generator.Checks;

/// <summary>
/// Checks of register arrays ([RegisterSet] classes): the class's form, count, stride against the
/// element's span, overflowing element arithmetic, and each element's registers exactly as single
/// registers are checked (width, property type, alignment at every element, bounds of the last
/// element), reported at the offending attribute with the element named (<c>Ports[3].PortSc</c>).
/// Overlaps with everything else are <see cref="LayoutChecks.CheckOverlaps"/>'s.
/// </summary>
internal static class RegisterSetChecks
{
    public static void Check(INamedTypeSymbol type, ulong blockSize, List<RegisterSetDeclaration> sets, List<RegisterDeclaration> blockRegisters, List<Diagnostic> diagnostics)
    {
        var setNames = new HashSet<string>();
        var taken = new HashSet<string>();
        foreach (ISymbol member in type.GetMembers())
        {
            if (!member.IsImplicitlyDeclared && member is not IMethodSymbol && !Declarations.IsGeneratedByUs(member)) taken.Add(member.Name);
        }

        foreach (RegisterDeclaration register in blockRegisters)
        {
            taken.Add(register.Name + "Offset");
            taken.Add(register.Name + "ResetValue");
            taken.Add(Identifiers.ToStorageField(register.Name));
        }

        foreach (RegisterSetDeclaration set in sets)
        {
            if (set.Name is null) diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidName, set.Location, set.DeclaredName));
            else if (!setNames.Add(set.Name) || !TakeAll(taken, [set.Name, set.Name + "Offset", set.Name + "Count", set.Name + "Stride", set.Name + "Array", Identifiers.ToStorageField(set.Name)]))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, set.Location, set.DeclaredName, type.Name));
            }

            if (!set.IsPartialClass) diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.RegisterSetNotPartialClass, set.Location, set.DeclaredName));

            // Each register as a single one at its element-relative offset; bounds come per element below.
            LayoutChecks.CheckRegisters(ulong.MaxValue, set.Registers, diagnostics);
            foreach (RegisterDeclaration register in set.Registers)
            {
                if (Widths.IsValidAccessWidth(register.Width)) FieldChecks.Check(register, diagnostics);

                // The block's hooks (On{Register}Written(index, …)), reset constants and storage arrays carry the register's name.
                string[] blockNames = [Identifiers.ToStorageField(register.Name), register.Name + "ResetValue", "On" + register.Name + "Written"];
                if (!TakeAll(taken, blockNames)) diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, register.Location, register.Name, type.Name));
            }

            CheckElementNames(set, diagnostics);
            CheckGeometry(blockSize, set, diagnostics);
        }
    }

    /// <summary>The element class's generated members: each register, its offset and fields, and the view's own.</summary>
    private static void CheckElementNames(RegisterSetDeclaration set, List<Diagnostic> diagnostics)
    {
        var taken = new HashSet<string> { "_block", "_index", "Index", set.TypeName };
        foreach (RegisterDeclaration register in set.Registers)
        {
            string[] names = [register.Name, register.Name + "Offset", register.Name + "Fields"];
            if (!TakeAll(taken, names)) diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, register.Location, register.Name, set.TypeName));
            var fieldNames = new HashSet<string>();
            foreach (FieldDeclaration field in register.Fields)
            {
                if (field.Name is null || !fieldNames.Add(field.Name)) continue;
                if (!taken.Add(register.Name + field.Name))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, field.Location, register.Name + field.Name, set.TypeName));
                }
            }
        }
    }

    private static void CheckGeometry(ulong blockSize, RegisterSetDeclaration set, List<Diagnostic> diagnostics)
    {
        if (set.Registers.Count == 0)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.RegisterSetEmpty, set.Location, set.DeclaredName));
            return;
        }

        if (set.Count < 1)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.RegisterSetCountTooSmall, set.Location, set.DeclaredName, set.Count));
            return;
        }

        ulong span = 0;
        foreach (RegisterDeclaration register in set.Registers)
        {
            // A width or offset already reported leaves the geometry undefined.
            if (!Widths.IsValidAccessWidth(register.Width) || register.Offset > ulong.MaxValue - (ulong)register.Width) return;
            span = System.Math.Max(span, register.Offset + (ulong)register.Width);
        }

        if (set.Count > 1 && set.Stride < span)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.RegisterSetStrideTooSmall, set.Location, set.DeclaredName, set.Stride, span));
            return;
        }

        // offset + (count − 1) × stride + span, in 64 bits; the dispatch's index (within / stride) fits an int.
        ulong steps = (ulong)(set.Count - 1);
        bool overflows = (steps != 0 && set.Stride > (ulong.MaxValue - set.Offset) / steps)
            || set.Offset + (steps * set.Stride) > ulong.MaxValue - span;
        if (overflows)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.RegisterSetOverflow, set.Location, set.DeclaredName, set.Offset, set.Count, set.Stride, span));
            return;
        }

        set.Span = span;
        set.IsWellFormed = true;
        ulong last = set.Offset + (steps * set.Stride);
        foreach (RegisterDeclaration register in set.Registers)
        {
            // Element 0 and, when the stride breaks the alignment, element 1: every other element repeats one of the two.
            ulong width = (ulong)register.Width;
            if ((set.Offset + register.Offset) % width != 0)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.Misaligned, register.Location, Element(set, 0, register), set.Offset + register.Offset, register.Width));
            }
            else if (set.Count > 1 && set.Stride % width != 0)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.Misaligned, register.Location, Element(set, 1, register), set.Offset + set.Stride + register.Offset, register.Width));
            }

            ulong end = last + register.Offset + width;
            if (end > blockSize)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.BeyondBlock, register.Location, Element(set, set.Count - 1, register), end, blockSize));
            }
        }
    }

    /// <summary>How diagnostics name one element's register: "Ports[3].PortSc".</summary>
    public static string Element(RegisterSetDeclaration set, long index, RegisterDeclaration register) =>
        $"{set.Name ?? set.DeclaredName}[{index}].{register.Name}";

    private static bool TakeAll(HashSet<string> taken, string[] names)
    {
        bool free = true;
        foreach (string name in names) free &= taken.Add(name);
        return free;
    }
}
