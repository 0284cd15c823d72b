using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests.Robustness;

/// <summary>
/// Checks what the analyzer said about a <see cref="FlawedBlock"/>. Every injected flaw must be
/// reported exactly once, under its own rule and at the span of its own attribute (the span the
/// Diagnostics tests mark with <c>{|SHIOxxx:...|}</c>). Every other ShadowIo diagnostic is
/// unexpected: a diagnostic counts as implied by the flaws only when both its ID and its span
/// are one flaw's, since flaws never share an attribute and the base block is well-formed.
/// The only compiler errors allowed are those a flaw is in C# itself (<see cref="Flaw.CompilerErrors"/>):
/// for an invalid block the generator still emits the implementing parts of the declarations
/// (issue 13 §1), so no CS9248 or CS0759 may appear, and neither may an error in generated code.
/// </summary>
public static class FlawAssert
{
    public static void ReportedExactly(FlawedBlock flawed, GeneratorRun run)
    {
        BlockSource source = flawed.Spec.ToSource();
        Diagnostic[] reported = [.. run.AnalyzerDiagnostics.Where(static d => d.Id.StartsWith("SHIO", StringComparison.Ordinal))];
        var problems = new List<string>();

        foreach (InjectedFlaw flaw in flawed.Injected)
        {
            TextSpan span = source.Spans[flaw.At];
            int times = reported.Count(d => d.Id == flaw.Flaw.Id && IsAt(d, span));
            if (times != 1)
            {
                problems.Add($"Flaw '{flaw.Flaw.Name}' should be reported once as {flaw.Flaw.Id} at {flaw.At}, {source.Describe(span)}; it was reported {times} times there.");
            }
        }

        foreach (Diagnostic diagnostic in reported)
        {
            bool implied = flawed.Injected.Any(f => f.Flaw.Id == diagnostic.Id && IsAt(diagnostic, source.Spans[f.At]));
            if (!implied) problems.Add($"Unexpected {Describe(diagnostic, source)}: no injected flaw is {diagnostic.Id} at that attribute.");
        }

        foreach (Diagnostic error in run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error))
        {
            bool implied = flawed.Injected.Any(f => f.Flaw.CompilerErrors.Contains(error.Id));
            if (!implied) problems.Add($"Unexpected compiler error {Describe(error, source)}: no injected flaw implies it, and the generated parts should have left the declarations compiling.");
        }

        if (problems.Count == 0) return;
        var message = new StringBuilder();
        foreach (string problem in problems) message.AppendLine(problem);
        message.AppendLine("The analyzer reported:");
        foreach (Diagnostic diagnostic in reported) message.Append("  ").AppendLine(Describe(diagnostic, source));
        if (reported.Length == 0) message.AppendLine("  nothing");
        Assert.Fail(message.ToString());
    }

    private static bool IsAt(Diagnostic diagnostic, TextSpan span) =>
        diagnostic.Location.SourceTree?.FilePath == BlockSpec.FilePath && diagnostic.Location.SourceSpan == span;

    private static string Describe(Diagnostic diagnostic, BlockSource source)
    {
        string where = diagnostic.Location.SourceTree?.FilePath == BlockSpec.FilePath
            ? source.Describe(diagnostic.Location.SourceSpan)
            : diagnostic.Location.ToString();
        return $"{diagnostic.Id} at {where}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }
}
