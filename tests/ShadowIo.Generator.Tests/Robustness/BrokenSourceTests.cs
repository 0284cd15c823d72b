using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests.Robustness;

/// <summary>
/// Source the compiler itself rejects (unbindable attribute arguments, half-typed code): the
/// generator and analyzer neither throw nor report, the generator emits at most the implementing
/// parts of the declarations (which add no error of their own), and the compiler reports its
/// error where the markup <c>{|CSxxxx:...|}</c> says.
/// </summary>
public sealed partial class BrokenSourceTests
{
    public static TheoryData<string> BrokenBlocks() =>
    [
        """
        using ShadowIo;
        [RegisterBlock("block", {|CS1503:"large"|})]
        public partial class Block { [Register(0, 4)] public partial uint A { get; set; } }
        """,
        """
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block { [Register({|CS0103:Missing|}.Offset, 4)] public partial uint A { get; set; } }
        """,
        """
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [{|CS7036:DoorbellArray("q", 0x10, 4)|}]
        public partial class Block { }
        """,
        """
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block { [Register(0, 4)] [Field("EN", 0, 1, EnumType = typeof({|CS0246:Nope|}))] public partial uint A { get; set; } }
        """,
        """
        using ShadowIo;
        [RegisterBlock(null, 0x100)]
        public partial class Block { [Register(0, 4, Access = RegisterAccess.{|CS0117:Nope|})] public partial uint A { get; set
        """,
        """
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block { [Register(0, 4)] public partial {|CS0246:Nope|} A { get; set; } }
        """,
    ];

    [Theory]
    [MemberData(nameof(BrokenBlocks))]
    public void Generator_and_analyzer_stay_quiet_on_code_the_compiler_rejects(string markup)
    {
        (string source, string expectedId, TextSpan expectedSpan) = Unmark(markup);
        GeneratorRun run = GeneratorHarness.Run(source);
        Assert.Null(run.GeneratorException);
        Assert.Empty(run.AnalyzerExceptions);
        Assert.DoesNotContain(run.GeneratedSources, static s => s.SourceText.ToString().Contains("ReadMmio(ulong offset, int size)", StringComparison.Ordinal));
        Assert.DoesNotContain(run.CompilerDiagnostics, static d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(AnalyzerVerifier.UnexplainedErrors(run.CompilerDiagnostics), d => d.Id is "CS9248" or "CS0759");
        Assert.DoesNotContain(run.CompilerDiagnostics.Concat(run.Result.Diagnostics).Concat(run.AnalyzerDiagnostics), static d => d.Id is "CS8785" or "AD0001");

        // The compiler's error is the only one: nothing of ours beside it, not even at the same place.
        Assert.True(run.AnalyzerDiagnostics.IsEmpty, $"The analyzer should leave this source to the compiler, but reported:{Environment.NewLine}{Describe(run.AnalyzerDiagnostics, source)}");
        Assert.True(
            run.CompilerDiagnostics.Any(d => d.Id == expectedId && d.Location.SourceTree?.FilePath == BlockSpec.FilePath && d.Location.SourceSpan == expectedSpan),
            $"Expected {expectedId} at {expectedSpan} `{source.Substring(expectedSpan.Start, expectedSpan.Length)}`; the compiler reported:{Environment.NewLine}{Describe(run.CompilerDiagnostics, source)}");
    }

    /// <summary>The source without its one <c>{|ID:text|}</c> marker, and the ID and span it marked.</summary>
    private static (string Source, string Id, TextSpan Span) Unmark(string markup)
    {
        Match marker = Marker().Match(markup);
        Assert.True(marker.Success, "each broken block marks the compiler error it must produce");
        Group text = marker.Groups["text"];
        string source = string.Concat(markup.AsSpan(0, marker.Index), text.Value, markup.AsSpan(marker.Index + marker.Length));
        return (source, marker.Groups["id"].Value, new TextSpan(marker.Index, text.Length));
    }

    private static string Describe(IEnumerable<Diagnostic> diagnostics, string source)
    {
        var text = new StringBuilder();
        foreach (Diagnostic d in diagnostics.Where(static d => d.Location.SourceTree?.FilePath == BlockSpec.FilePath))
        {
            TextSpan span = d.Location.SourceSpan;
            text.AppendLine(CultureInfo.InvariantCulture, $"  {d.Id} at {span} `{source.AsSpan(span.Start, span.Length)}`: {d.GetMessage(CultureInfo.InvariantCulture)}");
        }

        return text.ToString();
    }

    [GeneratedRegex(@"\{\|(?<id>[^:|]+):(?<text>.*?)\|\}")]
    private static partial Regex Marker();
}
