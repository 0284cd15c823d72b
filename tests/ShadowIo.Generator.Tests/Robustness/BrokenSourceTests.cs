using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests.Robustness;

/// <summary>
/// Source the compiler itself rejects (unbindable attribute arguments, half-typed code): the
/// generator and analyzer neither throw nor emit, and leave the error to the compiler.
/// </summary>
public sealed class BrokenSourceTests
{
    public static TheoryData<string> BrokenBlocks() =>
    [
        """
        using ShadowIo;
        [RegisterBlock("block", "large")]
        public partial class Block { [Register(0, 4)] public partial uint A { get; set; } }
        """,
        """
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block { [Register(Missing.Offset, 4)] public partial uint A { get; set; } }
        """,
        """
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [DoorbellArray("q", 0x10, 4)]
        public partial class Block { }
        """,
        """
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block { [Register(0, 4)] [Field("EN", 0, 1, EnumType = typeof(Nope))] public partial uint A { get; set; } }
        """,
        """
        using ShadowIo;
        [RegisterBlock(null, 0x100)]
        public partial class Block { [Register(0, 4, Access = RegisterAccess.Nope)] public partial uint A { get; set
        """,
        """
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block<T> where T : struct { [Register(0, 4)] public partial T A { get; set; } }
        """,
    ];

    [Theory]
    [MemberData(nameof(BrokenBlocks))]
    public void Generator_and_analyzer_stay_quiet_on_code_the_compiler_rejects(string source)
    {
        GeneratorRun run = GeneratorHarness.Run(source);
        Assert.Null(run.GeneratorException);
        Assert.Empty(run.AnalyzerExceptions);
        Assert.Empty(run.GeneratedSources);
        Assert.Contains(run.Errors, d => d.Id.StartsWith("CS", StringComparison.Ordinal) || d.Id.StartsWith("SHIO", StringComparison.Ordinal));
        Assert.DoesNotContain(run.Errors, d => d.Id is "CS8785" or "AD0001");
    }
}
