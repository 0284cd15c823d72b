using Microsoft.CodeAnalysis.Testing;
using ShadowIo.Generator.Tests.Infrastructure;
using static ShadowIo.Generator.Tests.Infrastructure.AnalyzerVerifier;

namespace ShadowIo.Generator.Tests.Diagnostics;

/// <summary>
/// Issue 13 §2: notify doorbells may share an address when every one there has a datamatch of
/// its own (virtio-mmio QueueNotify at 0x50, value = queue index, queue 0's datamatch 0
/// included); a repeated value (SHIO025) or a doorbell without datamatch there (SHIO026) is an
/// error naming both, at the later declaration.
/// </summary>
public sealed class SharedAddressDiagnosticTests
{
    [Fact]
    public Task Sixteen_queue_notify_doorbells_on_one_address_with_datamatch_0_to_15_are_a_valid_block() => VerifyValidAsync($$"""
        using ShadowIo;
        [RegisterBlock("virtio-mmio", 0x200)]
        {{string.Concat(Enumerable.Range(0, 16).Select(static q => $"[NotifyDoorbell(\"queue {q}\", 0x50, 4, DataMatch = {q})]\n"))}}
        public partial class VirtioMmio
        {
            [Register(0x70, 4)]
            public partial uint Status { get; set; }
        }
        """);

    [Fact]
    public void Each_shared_address_doorbell_gets_its_own_row_in_declaration_order()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using ShadowIo;
            [RegisterBlock("notify", 0x100)]
            [NotifyDoorbell("queue 0", 0x50, 2, DataMatch = 0)]
            [NotifyDoorbell("queue 1", 0x50, 2, DataMatch = 1)]
            [NotifyDoorbell("config", 0x60, 2)]
            public partial class Notify
            {
            }
            """);

        Assert.Empty(run.AnalyzerDiagnostics);
        Assert.Empty(run.Errors);
        string source = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("public const int Queue0 = 0;", source, StringComparison.Ordinal);
        Assert.Contains("public const int Queue1 = 1;", source, StringComparison.Ordinal);
        Assert.Contains("DoorbellTable.TryFind(offset, size, bytes, out int row)", source, StringComparison.Ordinal);
    }

    [Fact]
    public Task SHIO025_a_repeated_datamatch_on_one_address_names_both() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [NotifyDoorbell("queue 0", 0x50, 4, DataMatch = 0)]
        [NotifyDoorbell("queue 1", 0x50, 4, DataMatch = 1)]
        [{|#0:NotifyDoorbell("queue 2", 0x50, 4, DataMatch = 1)|}]
        public partial class Block
        {
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.DuplicateDataMatch).WithLocation(0).WithArguments("queue 1", "queue 2", 0x50UL, 1UL));

    [Fact]
    public Task SHIO025_datamatch_0_twice_is_a_repeat_too() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [NotifyDoorbell("a", 0x50, 2, DataMatch = 0)]
        [{|#0:NotifyDoorbell("b", 0x50, 2, DataMatch = 0)|}]
        public partial class Block
        {
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.DuplicateDataMatch).WithLocation(0).WithArguments("a", "b", 0x50UL, 0UL));

    [Fact]
    public Task SHIO026_a_wildcard_declared_after_a_datamatch_doorbell_on_its_address_names_both() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [NotifyDoorbell("queue 0", 0x50, 4, DataMatch = 0)]
        [{|#0:NotifyDoorbell("any", 0x50, 4)|}]
        public partial class Block
        {
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.WildcardBesideDataMatch).WithLocation(0).WithArguments("any", 0x50UL, "queue 0"));

    [Fact]
    public Task SHIO026_a_value_doorbell_declared_before_a_datamatch_doorbell_on_its_address_names_both() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x2000)]
        [Doorbell("tail", 0x1000, 4)]
        [{|#0:NotifyDoorbell("kick", 0x1000, 4, DataMatch = 7)|}]
        public partial class Block
        {
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.WildcardBesideDataMatch).WithLocation(0).WithArguments("tail", 0x1000UL, "kick"));

    [Fact]
    public Task Datamatch_doorbells_of_different_widths_on_one_address_still_overlap() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [NotifyDoorbell("narrow", 0x50, 2, DataMatch = 0)]
        [{|#0:NotifyDoorbell("wide", 0x50, 4, DataMatch = 1)|}]
        public partial class Block
        {
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.Overlap).WithLocation(0).WithArguments("wide", 0x50UL, 0x54UL, "narrow", 0x50UL, 0x52UL));

    [Fact]
    public Task A_register_on_a_shared_doorbell_address_overlaps_each_doorbell_there() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [{|#0:NotifyDoorbell("queue 0", 0x50, 4, DataMatch = 0)|}]
        [{|#1:NotifyDoorbell("queue 1", 0x50, 4, DataMatch = 1)|}]
        public partial class Block
        {
            [Register(0x50, 4)]
            public partial uint Notify { get; set; }
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.Overlap).WithLocation(0).WithArguments("queue 0", 0x50UL, 0x54UL, "Notify", 0x50UL, 0x54UL),
        new DiagnosticResult(DiagnosticDescriptors.Overlap).WithLocation(1).WithArguments("queue 1", 0x50UL, 0x54UL, "Notify", 0x50UL, 0x54UL));
}
