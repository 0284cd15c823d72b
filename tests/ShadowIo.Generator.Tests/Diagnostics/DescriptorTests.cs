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

    /// <summary>
    /// Each help link names this repository's generator/docs/diagnostics.md (which the package
    /// also carries, as docs/diagnostics.md) and an anchor its own heading produces: "## SHIO006"
    /// is "#shio006".
    /// </summary>
    [Fact]
    public void Help_links_point_at_the_diagnostics_document_and_a_heading_in_it()
    {
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "generator", "docs", "diagnostics.md"));
        foreach (DiagnosticDescriptor descriptor in All())
        {
            var link = new Uri(descriptor.HelpLinkUri);
            Assert.Equal("https", link.Scheme);
            string path = link.AbsolutePath;
            const string branch = "/blob/main/";
            int at = path.IndexOf(branch, StringComparison.Ordinal);
            Assert.True(at > 0, $"{descriptor.HelpLinkUri} names no file of the main branch");
            string file = path[(at + branch.Length)..];
            Assert.Equal("generator/docs/diagnostics.md", file);
            Assert.True(File.Exists(Path.Combine(RepositoryRoot(), file)));
            Assert.Equal("#" + descriptor.Id.ToLowerInvariant(), link.Fragment);
            Assert.Contains($"\n## {descriptor.Id}\n", docs, StringComparison.Ordinal);
        }
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "..", ".."));
}
