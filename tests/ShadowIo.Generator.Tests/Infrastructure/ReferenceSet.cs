using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace ShadowIo.Generator.Tests.Infrastructure;

/// <summary>
/// Metadata references for test compilations, built from the running runtime's own framework
/// assemblies (TRUSTED_PLATFORM_ASSEMBLIES) plus the ShadowIo runtime: no reference-assembly
/// package has to be downloaded, so the tests run offline.
/// </summary>
public static class ReferenceSet
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(Create);

    public static ImmutableArray<MetadataReference> All => s_references.Value;

    private static ImmutableArray<MetadataReference> Create()
    {
        string frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string trusted = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        var references = trusted
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => Path.GetDirectoryName(path) == frameworkDirectory)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToList();
        references.Add(MetadataReference.CreateFromFile(typeof(RegisterBlockAttribute).Assembly.Location));
        return [.. references];
    }
}
