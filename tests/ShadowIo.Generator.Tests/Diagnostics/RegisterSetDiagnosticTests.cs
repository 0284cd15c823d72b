using static ShadowIo.Generator.Tests.Infrastructure.AnalyzerVerifier;

namespace ShadowIo.Generator.Tests.Diagnostics;

/// <summary>
/// Issue 13 §3: register arrays ([RegisterSet]) are checked like single registers, element by
/// element, with the exact span; each test also proves (through the verifier's generator run) that
/// the invalid block's generated parts leave no compiler error beside the SHIO one.
/// </summary>
public sealed class RegisterSetDiagnosticTests
{
    [Fact]
    public Task A_valid_port_register_set_has_no_diagnostic() => VerifyValidAsync("""
        using ShadowIo;
        [RegisterBlock("xhci", 0x1000)]
        public partial class Block
        {
            [Register(0x0, 4)]
            public partial uint Config { get; set; }

            [RegisterSet("Ports", 0x400, 8, 0x10)]
            public partial class Port
            {
                [Register(0x0, 4)]
                [Field("CCS", 0, 1, Access = FieldAccess.ReadOnly)]
                public partial uint PortSc { get; set; }

                [Register(0xC, 4)]
                public partial uint PortHlpmc { get; set; }
            }

            partial void OnPortScWritten(int index, uint previous, uint value) => Config = (uint)index;
            public bool Connected(int port) => Ports[port].PortScCcs;
        }
        """);

    [Fact]
    public Task SHIO030_set_declared_as_a_struct() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [{|SHIO030:RegisterSet("Ports", 0x400, 4, 0x10)|}]
            public partial struct Port
            {
                [Register(0x0, 4)]
                public partial uint PortSc { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO030_set_class_abstract() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [{|SHIO030:RegisterSet("Ports", 0x400, 4, 0x10)|}]
            public abstract partial class Port
            {
                [Register(0x0, 4)]
                public partial uint PortSc { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO031_count_zero() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [{|SHIO031:RegisterSet("Ports", 0x400, 0, 0x10)|}]
            public partial class Port
            {
                [Register(0x0, 4)]
                public partial uint PortSc { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO032_stride_smaller_than_the_group() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [{|SHIO032:RegisterSet("Ports", 0x400, 4, 0x8)|}]
            public partial class Port
            {
                [Register(0x0, 4)]
                public partial uint PortSc { get; set; }

                [Register(0xC, 4)]
                public partial uint PortHlpmc { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO033_element_arithmetic_overflows() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [{|SHIO033:RegisterSet("Ports", 0xFFFF_FFFF_FFFF_0000, 0x1000, 0x100)|}]
            public partial class Port
            {
                [Register(0x0, 4)]
                public partial uint PortSc { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO034_set_without_registers() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [{|SHIO034:RegisterSet("Ports", 0x400, 4, 0x10)|}]
            public partial class Port
            {
            }
        }
        """);

    [Fact]
    public Task SHIO004_stride_breaks_an_elements_alignment() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [RegisterSet("Entries", 0x400, 4, 0xC)]
            public partial class Entry
            {
                [{|SHIO004:Register(0x0, 8)|}]
                public partial ulong Address { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO005_last_element_runs_past_the_block() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [RegisterSet("Ports", 0xF00, 17, 0x10)]
            public partial class Port
            {
                [{|SHIO005:Register(0x0, 4)|}]
                public partial uint PortSc { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO006_element_overlaps_a_single_register() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [Register(0x438, 4)]
            public partial uint Stray { get; set; }

            [RegisterSet("Ports", 0x400, 8, 0x10)]
            public partial class Port
            {
                [{|SHIO006:Register(0x8, 4)|}]
                public partial uint PortLi { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO006_elements_of_two_arrays_overlap() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [RegisterSet("Ports", 0x400, 8, 0x10)]
            public partial class Port
            {
                [Register(0x0, 4)]
                public partial uint PortSc { get; set; }
            }

            [RegisterSet("Odd", 0x46C, 2, 0x4)] // Odd[1] at 0x470 is Ports[7].PortSc
            public partial class OddRegister
            {
                [{|SHIO006:Register(0x0, 4)|}]
                public partial uint Value { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO006_an_array_filling_the_gaps_of_another_is_allowed() => VerifyValidAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x1000)]
        public partial class Block
        {
            [RegisterSet("Low", 0x400, 8, 0x10)]
            public partial class LowHalf
            {
                [Register(0x0, 8)]
                public partial ulong A { get; set; }
            }

            [RegisterSet("High", 0x408, 8, 0x10)]
            public partial class HighHalf
            {
                [Register(0x0, 8)]
                public partial ulong B { get; set; }
            }
        }
        """);

    [Fact]
    public Task SHIO024_set_outside_a_block() => VerifyAsync("""
        using ShadowIo;
        public partial class NotABlock
        {
            [{|SHIO024:RegisterSet("Ports", 0x400, 4, 0x10)|}]
            public partial class Port
            {
            }
        }
        """);

    [Fact]
    public Task SHIO028_8_byte_register_of_an_array_in_a_port_block() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("ports", 0x100, AddressSpace = AddressSpace.Port)]
        public partial class Block
        {
            [RegisterSet("Queues", 0x10, 4, 0x10)]
            public partial class Queue
            {
                [{|SHIO028:Register(0x0, 8)|}]
                public partial ulong Address { get; set; }
            }
        }
        """);
}
