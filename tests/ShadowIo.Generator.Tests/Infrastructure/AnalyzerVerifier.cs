using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace ShadowIo.Generator.Tests.Infrastructure;

/// <summary>
/// Runs <see cref="RegisterBlockAnalyzer"/> with Microsoft.CodeAnalysis.Testing markup
/// (<c>{|SHIO006:...|}</c> around the exact span), then checks the generator on the same source
/// (markup removed): no exception, no generated file for the invalid block.
/// </summary>
public static partial class AnalyzerVerifier
{
    public static async Task VerifyAsync(string markup, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<RegisterBlockAnalyzer, DefaultVerifier>
        {
            TestCode = markup,

            // Framework assemblies of the running runtime instead of a downloaded reference pack.
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),

            // Without the generator, partial properties lack their implementation part (CS9248).
            CompilerDiagnostics = CompilerDiagnostics.None,
        };
        test.TestState.AdditionalReferences.AddRange(ReferenceSet.All);
        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync(TestContext.Current.CancellationToken);

        GeneratorRun run = GeneratorHarness.Run(WithoutMarkup(markup));
        Assert.Null(run.GeneratorException);
        Assert.Empty(run.GeneratedSources);
        Assert.Empty(run.AnalyzerExceptions);
    }

    /// <summary>A valid block: no analyzer diagnostics and exactly one generated file that compiles.</summary>
    public static async Task VerifyValidAsync(string source)
    {
        var test = new CSharpAnalyzerTest<RegisterBlockAnalyzer, DefaultVerifier>
        {
            TestCode = source,
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
            CompilerDiagnostics = CompilerDiagnostics.None,
        };
        test.TestState.AdditionalReferences.AddRange(ReferenceSet.All);
        await test.RunAsync(TestContext.Current.CancellationToken);

        GeneratorRun run = GeneratorHarness.Run(source);
        Assert.Null(run.GeneratorException);
        Assert.Single(run.GeneratedSources);
        Assert.Empty(run.Errors);
    }

    public static string WithoutMarkup(string markup) => MarkupStart().Replace(markup, "").Replace("|}", "", StringComparison.Ordinal);

    [GeneratedRegex(@"\{\|[^:|]+:")]
    private static partial Regex MarkupStart();
}
