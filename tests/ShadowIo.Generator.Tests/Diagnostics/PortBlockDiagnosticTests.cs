using Microsoft.CodeAnalysis.Testing;
using ShadowIo.Generator.Tests.Infrastructure;
using static ShadowIo.Generator.Tests.Infrastructure.AnalyzerVerifier;

namespace ShadowIo.Generator.Tests.Diagnostics;

/// <summary>
/// Issue 13 §4: a block declared with <c>AddressSpace = AddressSpace.Port</c> fits the 64 KiB x86
/// port space (SHIO027) with 1-, 2- and 4-byte accesses only (SHIO028), and the address space is a
/// defined value (SHIO029). The generated table carries the space for the binding.
/// </summary>
public sealed class PortBlockDiagnosticTests
{
    [Fact]
    public Task A_port_block_of_the_whole_port_space_with_1_2_and_4_byte_accesses_is_valid() => VerifyValidAsync("""
        using ShadowIo;
        [RegisterBlock("ports", 0x1_0000, AddressSpace = AddressSpace.Port)]
        [Doorbell("tail", 0x10, 4)]
        [NotifyDoorbell("queue 0", 0xFFFE, 2, DataMatch = 0)]
        public partial class Ports
        {
            [Register(0x0, 1)]
            public partial byte Status { get; set; }

            [Register(0x2, 2)]
            public partial ushort Select { get; set; }

            [Register(0x4, 4)]
            public partial uint Features { get; set; }
        }
        """);

    [Fact]
    public void The_generated_table_of_a_port_block_names_the_port_space_and_an_mmio_block_stays_as_it_was()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            using ShadowIo;
            [RegisterBlock("ports", 0x20, AddressSpace = AddressSpace.Port)]
            [NotifyDoorbell("kick", 0x10, 2)]
            public partial class Ports
            {
            }

            [RegisterBlock("memory", 0x20)]
            [NotifyDoorbell("kick", 0x10, 2)]
            public partial class Memory
            {
            }
            """);

        Assert.Empty(run.AnalyzerDiagnostics);
        Assert.Empty(run.Errors);
        string[] sources = [.. run.GeneratedSources.Select(static s => s.SourceText.ToString())];
        Assert.Single(sources, static s => s.Contains("CreateDoorbellRows()) { AddressSpace = global::ShadowIo.AddressSpace.Port };", StringComparison.Ordinal));
        Assert.Single(sources, static s => s.Contains("CreateDoorbellRows());", StringComparison.Ordinal));
    }

    [Fact]
    public Task SHIO027_a_port_block_larger_than_the_port_space() => VerifyAsync("""
        using ShadowIo;
        [{|#0:RegisterBlock("ports", 0x1_0001, AddressSpace = AddressSpace.Port)|}]
        public partial class Ports
        {
            [Register(0x0, 4)]
            public partial uint Status { get; set; }
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.PortBlockTooLarge).WithLocation(0).WithArguments("ports", 0x1_0001UL));

    [Fact]
    public Task SHIO028_eight_byte_registers_and_doorbells_in_a_port_block_each_at_their_attribute() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("ports", 0x40, AddressSpace = AddressSpace.Port)]
        [{|#1:Doorbell("tail", 0x10, 8)|}]
        [{|#2:DoorbellArray("heads", 0x20, 8, 2, 8)|}]
        public partial class Ports
        {
            [{|#0:Register(0x0, 8)|}]
            public partial ulong Features { get; set; }
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.PortAccessTooWide).WithLocation(0).WithArguments("Features"),
        new DiagnosticResult(DiagnosticDescriptors.PortAccessTooWide).WithLocation(1).WithArguments("tail"),
        new DiagnosticResult(DiagnosticDescriptors.PortAccessTooWide).WithLocation(2).WithArguments("heads"));

    [Fact]
    public Task Eight_byte_accesses_stay_valid_in_an_mmio_block() => VerifyValidAsync("""
        using ShadowIo;
        [RegisterBlock("memory", 0x20, AddressSpace = AddressSpace.Mmio)]
        [Doorbell("tail", 0x10, 8)]
        public partial class Memory
        {
            [Register(0x0, 8)]
            public partial ulong Features { get; set; }
        }
        """);

    [Fact]
    public Task SHIO029_an_undefined_address_space() => VerifyAsync("""
        using ShadowIo;
        [{|#0:RegisterBlock("ports", 0x20, AddressSpace = (AddressSpace)7)|}]
        public partial class Ports
        {
            [Register(0x0, 4)]
            public partial uint Status { get; set; }
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.UndefinedAddressSpace).WithLocation(0).WithArguments("ports", 7));
}
