using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ShadowIo.Generator.Tests.Infrastructure;

/// <summary>What one run of the generator and analyzer over some sources produced.</summary>
public sealed record GeneratorRun(
    GeneratorDriverRunResult Result,
    Compilation Output,
    ImmutableArray<Diagnostic> CompilerDiagnostics,
    ImmutableArray<Diagnostic> AnalyzerDiagnostics,
    ImmutableArray<Exception> AnalyzerExceptions)
{
    public ImmutableArray<GeneratedSourceResult> GeneratedSources => Result.Results.Single().GeneratedSources;

    public Exception? GeneratorException => Result.Results.Single().Exception;

    /// <summary>Every error: compiler errors of the output compilation, generator and analyzer diagnostics.</summary>
    public IEnumerable<Diagnostic> Errors => CompilerDiagnostics
        .Concat(Result.Diagnostics)
        .Concat(AnalyzerDiagnostics)
        .Where(d => d.Severity == DiagnosticSeverity.Error);
}

/// <summary>Compiles sources in memory and runs the ShadowIo generator and analyzer over them.</summary>
public static class GeneratorHarness
{
    /// <summary>The implicit usings of an SDK project, so Blocks/*.cs compile unchanged.</summary>
    private const string ImplicitUsings = "global using System; global using System.Collections.Generic; global using System.Linq;";

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Preview);

    public static CSharpCompilation Compile(params string[] sources) =>
        CompileFiles([.. sources.Select(static (text, i) => ($"Source{i}.cs", text))]);

    /// <summary>Sources at the paths given (the path is what tells a generated file from a user's).</summary>
    public static CSharpCompilation CompileFiles(params (string Path, string Text)[] files) =>
        CSharpCompilation.Create(
            "ShadowIoTestBlocks",
            files.Append((Path: $"Source{files.Length}.cs", Text: ImplicitUsings)).Select(static f => CSharpSyntaxTree.ParseText(f.Text, ParseOptions, path: f.Path)),
            ReferenceSet.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new RegisterBlockGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    public static GeneratorRun Run(params string[] sources) => Run(Compile(sources));

    public static GeneratorRun RunFiles(params (string Path, string Text)[] files) => Run(CompileFiles(files));

    private static GeneratorRun Run(CSharpCompilation compilation)
    {
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        var exceptions = new List<Exception>();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions([]),
            onAnalyzerException: (exception, _, _) => { lock (exceptions) exceptions.Add(exception); },
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false);
        ImmutableArray<Diagnostic> analyzerDiagnostics = output
            .WithAnalyzers([new RegisterBlockAnalyzer()], options)
            .GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
        return new GeneratorRun(driver.GetRunResult(), output, output.GetDiagnostics(), analyzerDiagnostics, [.. exceptions]);
    }
}
