using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ShadowIo.Generator.Helpers;

/// <summary>
/// What the generated partial declarations must repeat of the user's: partial-ness, modifiers,
/// containing types, type parameters, and a unique hint name.
/// </summary>
internal static class Declarations
{
    public static bool IsPartialAndNotStatic(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        if (type.IsStatic || type.IsRecord || type.TypeKind != TypeKind.Class) return false;
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            bool partial = current.DeclaringSyntaxReferences.Length > 0;
            foreach (SyntaxReference reference in current.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is not TypeDeclarationSyntax declaration
                    || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    partial = false;
                }
            }

            if (!partial) return false;
        }

        return true;
    }

    /// <summary>Whether every declaration of <paramref name="type"/> itself says 'partial' (not a record: the generated part says 'class' or 'struct').</summary>
    public static bool IsPartial(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        !type.IsRecord && !type.IsStatic && type.DeclaringSyntaxReferences.Length > 0
        && type.DeclaringSyntaxReferences.All(reference => reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
            && declaration.Modifiers.Any(SyntaxKind.PartialKeyword));

    /// <summary>C# keywords for a declared accessibility ("private protected", "public", …).</summary>
    public static string AccessibilityKeywords(Accessibility accessibility) => accessibility switch
    {
        Accessibility.Public => "public",
        Accessibility.Internal => "internal",
        Accessibility.Protected => "protected",
        Accessibility.ProtectedOrInternal => "protected internal",
        Accessibility.ProtectedAndInternal => "private protected",
        _ => "private",
    };

    /// <summary>The keyword a further part of <paramref name="type"/> is declared with ("class", "struct"); null for any other kind.</summary>
    public static string? PartKeyword(INamedTypeSymbol type) =>
        type.IsRecord ? null : type.TypeKind switch { TypeKind.Class => "class", TypeKind.Struct => "struct", _ => null };

    public static bool IsPartialPropertyDeclaration(IPropertySymbol property, PropertyDeclarationSyntax? syntax) =>
        syntax is not null
        && syntax.Modifiers.Any(SyntaxKind.PartialKeyword)
        && property.IsPartialDefinition
        && (property.PartialImplementationPart is null || IsGeneratedByUs(property.PartialImplementationPart))
        && !property.IsStatic
        && !property.IsIndexer
        && property.GetMethod is not null
        && property.SetMethod is { IsInitOnly: false }
        && !property.ReturnsByRef
        && !property.ReturnsByRefReadonly;

    /// <summary>
    /// Whether this generator wrote the symbol: it is declared in the file this generator adds for
    /// its containing block, whose path ends in the generator's type name and that block's hint
    /// name (Roslyn names a generated tree {assembly}/{generator type}/{hint name}, under the
    /// generated-files folder when those are emitted). A user's own file, wherever it lives, never
    /// has that name unless made to. The analyzer sees the compilation after generation, where the
    /// implementing parts and generated members are ours; the generator sees it before, where they
    /// can only be the user's.
    /// </summary>
    public static bool IsGeneratedByUs(ISymbol symbol)
    {
        // A register set's members are generated into the file of the block that contains the set.
        for (INamedTypeSymbol? block = symbol.ContainingType; block is not null; block = block.ContainingType)
        {
            string hintName = HintName(block);
            foreach (Location location in symbol.Locations)
            {
                if (location.SourceTree?.FilePath is not { } path) continue;
                string directory = System.IO.Path.GetDirectoryName(path) ?? "";
                if (System.IO.Path.GetFileName(path) == hintName && System.IO.Path.GetFileName(directory) == s_generatorTypeName) return true;
            }
        }

        return false;
    }

    /// <summary>The folder Roslyn puts this generator's files in.</summary>
    private static readonly string s_generatorTypeName = typeof(RegisterBlockGenerator).FullName!;

    public static string ModifiersWithoutPartial(SyntaxTokenList modifiers) =>
        string.Join(" ", modifiers.Where(static m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(static m => m.Text));

    public static string AccessorModifiers(PropertyDeclarationSyntax? syntax, SyntaxKind kind)
    {
        AccessorDeclarationSyntax? accessor = syntax?.AccessorList?.Accessors.FirstOrDefault(a => a.IsKind(kind));
        return accessor is null ? "" : string.Join(" ", accessor.Modifiers.Select(static m => m.Text));
    }

    public static EquatableArray<string> ContainingTypeDeclarations(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var declarations = new List<string>();
        for (INamedTypeSymbol? current = type.ContainingType; current is not null; current = current.ContainingType)
        {
            string keyword = current.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) switch
            {
                RecordDeclarationSyntax record when record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => "record struct",
                RecordDeclarationSyntax => "record",
                StructDeclarationSyntax => "struct",
                InterfaceDeclarationSyntax => "interface",
                _ => "class",
            };
            declarations.Insert(0, $"partial {keyword} {NameWithTypeParameters(current)}");
        }

        return declarations.ToEquatableArray();
    }

    public static string NameWithTypeParameters(INamedTypeSymbol type) =>
        type.TypeParameters.Length == 0
            ? type.Name
            : $"{type.Name}<{string.Join(", ", type.TypeParameters.Select(static p => p.Name))}>";

    public static string HintName(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            parts.Insert(0, current.TypeParameters.Length == 0 ? current.Name : $"{current.Name}_{current.TypeParameters.Length}");
        }

        if (type.ContainingNamespace is { IsGlobalNamespace: false } ns) parts.Insert(0, ns.ToDisplayString());
        return string.Join(".", parts) + ".g.cs";
    }
}
