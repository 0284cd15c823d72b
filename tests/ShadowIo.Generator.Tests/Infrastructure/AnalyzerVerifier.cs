using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace ShadowIo.Generator.Tests.Infrastructure;

/// <summary>
/// Runs <see cref="RegisterBlockAnalyzer"/> with Microsoft.CodeAnalysis.Testing markup
/// (<c>{|SHIO006:...|}</c> around the exact span), then checks the generator on the same source
/// (markup removed): no exception, and for the invalid block only the implementing parts of its
/// declarations, which compile: every error left is one of the analyzer's.
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
        Assert.Empty(run.AnalyzerExceptions);
        Assert.DoesNotContain(run.GeneratedSources, static s => s.SourceText.ToString().Contains("ReadMmio(ulong offset, int size)", StringComparison.Ordinal));
        string[] compilerErrors = [.. UnexplainedErrors(run.CompilerDiagnostics).Select(static d => d.ToString())];
        Assert.True(compilerErrors.Length == 0, $"Besides the SHIO diagnostics the compilation has errors:{Environment.NewLine}{string.Join(Environment.NewLine, compilerErrors)}");
    }

    /// <summary>
    /// Compiler errors that are not the user's own C# mistakes: the user's are a partial member in a
    /// class that is not partial (CS0751, beside SHIO001) and a type that does not exist (CS0246),
    /// with, for a register property of such a type, its missing implementing part (CS9248 on the
    /// same line): no implementation can name a type that does not exist.
    /// </summary>
    public static IEnumerable<Diagnostic> UnexplainedErrors(IEnumerable<Diagnostic> diagnostics)
    {
        Diagnostic[] errors = [.. diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error)];
        var missingTypeLines = errors.Where(static d => d.Id == "CS0246").Select(static d => (d.Location.SourceTree, d.Location.GetLineSpan().StartLinePosition.Line)).ToHashSet();
        return errors.Where(d => d.Id is not ("CS0751" or "CS0246")
            && !(d.Id == "CS9248" && missingTypeLines.Contains((d.Location.SourceTree, d.Location.GetLineSpan().StartLinePosition.Line))));
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
