using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace ShadowIo.Generator.Helpers;

/// <summary>
/// Reads attribute arguments defensively: an argument the compiler could not bind is reported as
/// unreadable (the compiler already has an error for it), never as an exception.
/// </summary>
internal static class AttributeReader
{
    /// <summary>
    /// Compares the attribute class with a ShadowIo attribute's metadata name by its parts, without
    /// formatting a display string for every attribute of every member.
    /// </summary>
    public static bool IsAttribute(AttributeData attribute, string metadataName)
    {
        if (attribute.AttributeClass is not { } type) return false;
        int dot = metadataName.LastIndexOf('.');
        return type.Name.Length == metadataName.Length - dot - 1
            && string.CompareOrdinal(type.Name, 0, metadataName, dot + 1, type.Name.Length) == 0
            && type.ContainingType is null
            && type.ContainingNamespace is { } ns
            && ns.Name.Length == dot
            && string.CompareOrdinal(ns.Name, 0, metadataName, 0, dot) == 0
            && ns.ContainingNamespace is { IsGlobalNamespace: true };
    }

    public static bool TryGetArgument<T>(AttributeData attribute, int index, out T value)
    {
        value = default!;
        if (attribute.ConstructorArguments.Length <= index) return false;
        TypedConstant argument = attribute.ConstructorArguments[index];
        if (argument.Kind == TypedConstantKind.Error) return false;
        if (argument.Value is T typed)
        {
            value = typed;
            return true;
        }

        // A null string argument is bindable; it just has no name.
        return argument.Value is null && default(T) is null;
    }

    public static T GetNamed<T>(AttributeData attribute, string name, T fallback, ref bool bindable, out bool present)
    {
        present = false;
        foreach (KeyValuePair<string, TypedConstant> pair in attribute.NamedArguments)
        {
            if (pair.Key != name) continue;
            present = true;
            if (pair.Value.Kind == TypedConstantKind.Error)
            {
                bindable = false;
                return fallback;
            }

            if (pair.Value.Value is T typed) return typed;
            if (pair.Value.Value is null && default(T) is null) return fallback;
            bindable = false;
            return fallback;
        }

        return fallback;
    }

    public static Location LocationOf(AttributeData attribute, ISymbol owner, CancellationToken cancellationToken) =>
        attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation()
        ?? owner.Locations.FirstOrDefault()
        ?? Location.None;
}
