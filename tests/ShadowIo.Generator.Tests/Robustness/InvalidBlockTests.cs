using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests.Robustness;

/// <summary>
/// What an invalid block still gets (issue 13 §1): its declarations compile whatever else is
/// wrong, so the analyzer's SHIO diagnostics are the only errors, and nothing generated takes a
/// name the user's own members have.
/// </summary>
public sealed class InvalidBlockTests
{
    [Fact]
    public void Hooks_get_the_signature_of_the_users_implementation_and_names_the_user_took_are_left_alone()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using ShadowIo;
            [RegisterBlock("broken", 0x100)]
            public partial class Block
            {
                // SHIO013: a uint declared 8 bytes wide; the user's hook says ulong, the property uint.
                [Register(0x8, 8)]
                [Field("EN", 0, 1)]
                public partial uint Cap { get; set; }

                // SHIO004, and the user's own members take the storage and offset names.
                [Register(0x2, 4)]
                public partial uint Cc { get; set; }

                private int _cc;
                public const int CcOffset = 2;

                partial void OnCapWritten(ulong before, ulong after) => _cc = (int)before + (int)after;
                partial void OnUndefinedRead(ulong where, int width) => Cc = CapEn ? 1u : (uint)where + (uint)width;
                public int Sum => _cc + CcOffset;
            }
            """);

        Assert.Null(run.GeneratorException);
        // SHIO014 too: _cc and CcOffset are names a valid block would generate.
        Assert.Equal(["SHIO004", "SHIO013", "SHIO014"], run.AnalyzerDiagnostics.Select(static d => d.Id).Order());
        Assert.Empty(run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error));
        string source = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("partial void OnCapWritten(ulong before, ulong after);", source, StringComparison.Ordinal);
        Assert.Contains("partial void OnUndefinedRead(ulong where, int width);", source, StringComparison.Ordinal);
        Assert.Contains("private uint _cc2;", source, StringComparison.Ordinal);
        Assert.DoesNotContain("CcOffset", source, StringComparison.Ordinal);
        Assert.DoesNotContain("ReadMmio", source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_class_that_is_not_partial_gets_nothing()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using ShadowIo;
            [RegisterBlock("not partial", 0x100)]
            public class Block
            {
            }
            """);

        Assert.Equal("SHIO001", Assert.Single(run.AnalyzerDiagnostics).Id);
        Assert.Empty(run.GeneratedSources);
        Assert.Empty(run.CompilerDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error));
    }
}
