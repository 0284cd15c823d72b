using System.Reflection;
using Microsoft.CodeAnalysis;

namespace ShadowIo.Generator.Tests.Diagnostics;

/// <summary>The diagnostic catalogue: sequential IDs, one category, help on each, tracked in the release files.</summary>
public sealed class DescriptorTests
{
    private static DiagnosticDescriptor[] All() => typeof(DiagnosticDescriptors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .OrderBy(d => d.Id, StringComparer.Ordinal)
        .ToArray();

    [Fact]
    public void Ids_are_sequential_from_SHIO001_in_one_category_with_help()
    {
        DiagnosticDescriptor[] all = All();
        for (int i = 0; i < all.Length; i++)
        {
            Assert.Equal($"SHIO{i + 1:000}", all[i].Id);
            Assert.Equal(DiagnosticDescriptors.Category, all[i].Category);
            Assert.Equal(DiagnosticSeverity.Error, all[i].DefaultSeverity);
            Assert.False(string.IsNullOrWhiteSpace(all[i].Description.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.EndsWith("#" + all[i].Id.ToLowerInvariant(), all[i].HelpLinkUri, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Analyzer_supports_every_descriptor()
    {
        Assert.Equal(All().Select(d => d.Id), new RegisterBlockAnalyzer().SupportedDiagnostics.Select(d => d.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_id_is_tracked_in_the_release_file_and_documented()
    {
        string generator = Path.Combine(RepositoryRoot(), "generator");
        string unshipped = File.ReadAllText(Path.Combine(generator, "AnalyzerReleases.Unshipped.md"));
        string docs = File.ReadAllText(Path.Combine(generator, "docs", "diagnostics.md"));
        foreach (DiagnosticDescriptor descriptor in All())
        {
            Assert.Contains($"{descriptor.Id} | {DiagnosticDescriptors.Category} | Error", unshipped, StringComparison.Ordinal);
            Assert.Contains($"## {descriptor.Id}\n", docs, StringComparison.Ordinal);
        }
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "..", ".."));
}
