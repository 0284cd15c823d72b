using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests.Diagnostics;

/// <summary>
/// "Is this member ours" is decided by the generated file's hint name (issue 13 §6), not by a
/// path substring: a user's file whose path merely contains the generator's name is the user's.
/// </summary>
public sealed class GeneratedFileTests
{
    private const string Block = """
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x0, 4)]
            public partial uint Cc { get; set; }
        }
        """;

    /// <summary>The user's own member that takes a generated name, in a file of the user's.</summary>
    private const string UsersMember = "public partial class Block { public const ulong CcOffset = 0; }";

    [Theory]
    [InlineData("RegisterBlockGenerator/Extras.cs")]
    [InlineData("ShadowIo.Generator.RegisterBlockGenerator/Extras.cs")]
    [InlineData("src/RegisterBlockGenerator.Members.cs")]
    [InlineData("ShadowIo.Generator.RegisterBlockGenerator/Other.g.cs")]
    public void A_users_file_whose_path_names_the_generator_is_still_the_users(string path)
    {
        GeneratorRun run = GeneratorHarness.RunFiles(("Block.cs", Block), (path, UsersMember));

        Diagnostic collision = Assert.Single(run.AnalyzerDiagnostics);
        Assert.Equal("SHIO014", collision.Id);
        Assert.Equal("Block.cs", collision.Location.SourceTree?.FilePath);
        Assert.DoesNotContain(run.CompilerDiagnostics, static d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void The_generated_file_is_recognised_by_its_hint_name()
    {
        GeneratorRun run = GeneratorHarness.RunFiles(("Block.cs", Block));

        GeneratedSourceResult generated = Assert.Single(run.GeneratedSources);
        Assert.Equal("Block.g.cs", generated.HintName);
        Assert.EndsWith("/ShadowIo.Generator.RegisterBlockGenerator/Block.g.cs", generated.SyntaxTree.FilePath, StringComparison.Ordinal);
        Assert.Empty(run.AnalyzerDiagnostics);
        Assert.Empty(run.Errors);
    }
}
