using System.Runtime.CompilerServices;
using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests;

/// <summary>
/// The generated source of each block in Blocks/ (the same files the dispatch tests compile and
/// run) against its checked-in snapshot in Snapshots/.
/// </summary>
public sealed class SnapshotTests
{
    [Fact]
    public void NvmeBar0() => VerifyBlock("NvmeBar0.cs");

    [Fact]
    public void FieldModesBlock() => VerifyBlock("FieldModesBlock.cs");

    [Fact]
    public void VirtioNotifyBlock() => VerifyBlock("VirtioNotifyBlock.cs");

    [Fact]
    public void PlainBlock() => VerifyBlock("PlainBlock.cs");

    [Fact]
    public void Uart16550() => VerifyBlock("Uart16550.cs");

    [Fact]
    public void PortArrayBlock() => VerifyBlock("PortArrayBlock.cs");

    [Fact]
    public void Generated_hint_names_include_namespace_and_nesting()
    {
        GeneratorRun run = GeneratorHarness.Run(ReadBlock("VirtioNotifyBlock.cs"), ReadBlock("NvmeBar0.cs"));
        Assert.Equal(
            ["ShadowIo.Generator.Tests.Blocks.Devices.VirtioNotifyBlock.g.cs", "ShadowIo.Generator.Tests.Blocks.NvmeBar0.g.cs"],
            run.GeneratedSources.Select(s => s.HintName).Order());
    }

    private static void VerifyBlock(string file, [CallerMemberName] string method = "", [CallerFilePath] string testFile = "")
    {
        GeneratorRun run = GeneratorHarness.Run(ReadBlock(file, testFile));
        Assert.Null(run.GeneratorException);
        Assert.Empty(run.Errors);
        Snapshot.Verify(Assert.Single(run.GeneratedSources).SourceText.ToString(), method: method, testFile: testFile);
    }

    public static string ReadBlock(string file, [CallerFilePath] string testFile = "") =>
        File.ReadAllText(Path.Combine(Path.GetDirectoryName(testFile)!, "Blocks", file));
}
