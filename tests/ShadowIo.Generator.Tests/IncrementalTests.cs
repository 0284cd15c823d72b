using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests;

/// <summary>The pipeline caches: an unrelated edit reuses every step, and no step holds a compilation object.</summary>
public sealed class IncrementalTests
{
    private static readonly string[] s_trackedSteps = [TrackingNames.ParsedBlocks, TrackingNames.ValidBlocks, TrackingNames.InvalidBlocks];

    /// <summary>A block with a layout error (misaligned), which still gets its declarations' parts.</summary>
    private const string InvalidBlock = """
        namespace Broken;
        using ShadowIo;
        [RegisterBlock("broken", 0x10)]
        public partial class BrokenBlock
        {
            [Register(0x2, 4)]
            [Field("EN", 0, 1)]
            public partial uint Status { get; set; }
        }
        """;

    /// <summary>A block whose register set is broken (stride smaller than the element): its invalid model carries the set's class.</summary>
    private const string InvalidSetBlock = """
        using ShadowIo;
        namespace Broken;
        [RegisterBlock("broken set", 0x1000)]
        public partial class BrokenSet
        {
            [RegisterSet("Ports", 0x400, 4, 0x4)]
            public partial class Port
            {
                [Register(0x0, 4)]
                [Field("CCS", 0, 1)]
                public partial uint PortSc { get; set; }

                [Register(0x4, 4)]
                public partial uint PortPmsc { get; set; }
            }

            partial void OnPortScWritten(int index, uint previous, uint value) { }
        }
        """;

    [Fact]
    public void Unrelated_edit_leaves_every_tracked_step_cached()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(
            SnapshotTests.ReadBlock("NvmeBar0.cs"),
            SnapshotTests.ReadBlock("FieldModesBlock.cs"),
            SnapshotTests.ReadBlock("PortArrayBlock.cs"),
            InvalidBlock,
            InvalidSetBlock,
            "namespace Other; public static class Unrelated { public const int Value = 1; }");
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation, TestContext.Current.CancellationToken);

        SyntaxTree unrelated = compilation.SyntaxTrees.Single(t => t.ToString().Contains("Unrelated", StringComparison.Ordinal));
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(
            unrelated,
            CSharpSyntaxTree.ParseText("namespace Other; public static class Unrelated { public const int Value = 2; public static int Twice => Value * 2; }", GeneratorHarness.ParseOptions, unrelated.FilePath, cancellationToken: TestContext.Current.CancellationToken));
        GeneratorRunResult second = driver.RunGenerators(edited, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        foreach (string step in s_trackedSteps)
        {
            var outputs = second.TrackedSteps[step].SelectMany(run => run.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, output => Assert.True(
                output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"{step} was {output.Reason} after an unrelated edit."));
        }

        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(run => run.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_a_block_regenerates_only_that_block()
    {
        string nvme = SnapshotTests.ReadBlock("NvmeBar0.cs");
        CSharpCompilation compilation = GeneratorHarness.Compile(nvme, SnapshotTests.ReadBlock("PlainBlock.cs"));
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation, TestContext.Current.CancellationToken);

        SyntaxTree nvmeTree = compilation.SyntaxTrees.First();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(
            nvmeTree,
            CSharpSyntaxTree.ParseText(nvme.Replace("[Register(0x20, 4)]", "[Register(0x20, 4, Reset = 7)]", StringComparison.Ordinal), GeneratorHarness.ParseOptions, nvmeTree.FilePath, cancellationToken: TestContext.Current.CancellationToken));
        GeneratorRunResult second = driver.RunGenerators(edited, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        var reasons = second.TrackedSteps[TrackingNames.ParsedBlocks].SelectMany(run => run.Outputs).Select(o => o.Reason).ToList();
        Assert.Equal(1, reasons.Count(r => r == IncrementalStepRunReason.Modified));
        Assert.Equal(1, reasons.Count(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
    }

    [Fact]
    public void No_step_output_holds_a_symbol_syntax_node_location_or_compilation()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(
            SnapshotTests.ReadBlock("NvmeBar0.cs"),
            SnapshotTests.ReadBlock("VirtioNotifyBlock.cs"),
            SnapshotTests.ReadBlock("FieldModesBlock.cs"),
            SnapshotTests.ReadBlock("Uart16550.cs"),
            SnapshotTests.ReadBlock("PortArrayBlock.cs"),
            InvalidBlock,
            InvalidSetBlock);
        GeneratorRunResult first = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        int walked = 0;
        foreach (string step in s_trackedSteps)
        {
            foreach ((object value, IncrementalStepRunReason _) in first.TrackedSteps[step].SelectMany(run => run.Outputs))
            {
                walked++;
                Assert.Empty(ObjectGraph.FindBanned(value, step));
            }
        }

        Assert.Equal(14, walked); // seven blocks parsed, five valid, two invalid
    }
}
