using System.Runtime.CompilerServices;
using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests;

/// <summary>The register map shown in generator/docs/generated-api.md compiles and behaves as described.</summary>
public sealed class DocumentationTests
{
    [Fact]
    public void Documented_register_map_compiles_with_the_generator()
    {
        string docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "generator", "docs", "generated-api.md"));
        int start = docs.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        string example = docs[start..docs.IndexOf("```", start, StringComparison.Ordinal)];
        const string shutdownNotification = "public enum ShutdownNotification : byte { None, Normal, Abrupt }";

        GeneratorRun run = GeneratorHarness.Run(example, shutdownNotification);

        Assert.Null(run.GeneratorException);
        Assert.Empty(run.AnalyzerDiagnostics);
        Assert.Equal("NvmeRegisters.g.cs", Assert.Single(run.GeneratedSources).HintName);
        Assert.Empty(run.Errors);
    }

    private static string RepositoryRoot([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
