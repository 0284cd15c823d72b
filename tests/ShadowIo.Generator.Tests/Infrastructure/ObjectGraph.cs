using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace ShadowIo.Generator.Tests.Infrastructure;

/// <summary>Walks an object graph by reflection, to find types that must never be cached in a pipeline.</summary>
public static class ObjectGraph
{
    private static readonly Type[] s_banned = [typeof(ISymbol), typeof(SyntaxNode), typeof(Location), typeof(Compilation), typeof(SemanticModel)];

    /// <summary>Paths (e.g. "ParsedBlocks[0].Registers[2]") at which a banned type was reached.</summary>
    public static List<string> FindBanned(object? root, string path)
    {
        var found = new List<string>();
        Visit(root, path, found, new HashSet<object>(ReferenceEqualityComparer.Instance));
        return found;
    }

    private static void Visit(object? value, string path, List<string> found, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum) return;
        Type type = value.GetType();
        if (s_banned.Any(banned => banned.IsAssignableFrom(type)))
        {
            found.Add($"{path}: {type.Name}");
            return;
        }

        if (!type.IsValueType && !seen.Add(value)) return;
        if (value is IEnumerable sequence)
        {
            int i = 0;
            foreach (object? item in sequence) Visit(item, $"{path}[{i++}]", found, seen);
            return;
        }

        foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            Visit(field.GetValue(value), $"{path}.{field.Name}", found, seen);
        }
    }
}
