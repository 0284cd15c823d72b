using Microsoft.CodeAnalysis.Testing;
using static ShadowIo.Generator.Tests.Infrastructure.AnalyzerVerifier;

namespace ShadowIo.Generator.Tests.Diagnostics;

/// <summary>Issue 2's compile-time checks: one test per check, with the exact span.</summary>
public sealed class BlockDiagnosticTests
{
    [Fact]
    public Task SHIO001_block_class_not_partial() => VerifyAsync("""
        using ShadowIo;
        [{|SHIO001:RegisterBlock("block", 0x100)|}]
        public class Block
        {
        }
        """);

    [Fact]
    public Task SHIO001_containing_type_not_partial() => VerifyAsync("""
        using ShadowIo;
        public class Outer
        {
            [{|SHIO001:RegisterBlock("block", 0x100)|}]
            public partial class Block
            {
            }
        }
        """);

    [Fact]
    public Task SHIO001_static_class() => VerifyAsync("""
        using ShadowIo;
        [{|SHIO001:RegisterBlock("static", 0x100)|}]
        public static partial class StaticBlock
        {
        }
        """);

    [Fact]
    public Task SHIO001_record() => VerifyAsync("""
        using ShadowIo;
        [{|SHIO001:RegisterBlock("record", 0x100)|}]
        public partial record RecordBlock
        {
        }
        """);

    [Fact]
    public Task SHIO002_register_not_a_partial_property() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [{|SHIO002:Register(0x0, 4)|}]
            public uint Status { get; set; }
        }
        """);

    [Fact]
    public Task SHIO003_width_not_1_2_4_or_8() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [{|SHIO003:Doorbell("tail", 0x20, 3)|}]
        public partial class Block
        {
            [{|SHIO003:Register(0x0, 3)|}]
            public partial uint Status { get; set; }
        }
        """);

    [Fact]
    public Task SHIO004_offset_not_aligned_to_width() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [{|SHIO004:DoorbellArray("tails", 0x40, 4, 2, 6)|}]
        public partial class Block
        {
            [{|SHIO004:Register(0x2, 4)|}]
            public partial uint Status { get; set; }
        }
        """);

    [Fact]
    public Task SHIO005_beyond_the_block() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [{|SHIO005:DoorbellArray("tails", 0xF0, 4, 8, 4)|}]
        public partial class Block
        {
            [{|SHIO005:Register(0x200, 4)|}]
            public partial uint Status { get; set; }
        }
        """);

    [Fact]
    public Task SHIO006_overlap_names_both() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x2000)]
        [DoorbellArray("SQ tail", 0x1000, 4, 4, 8)]
        [{|#1:DoorbellArray("CQ head", 0x1008, 4, 4, 8)|}]
        public partial class Block
        {
            [Register(0x0, 8)]
            public partial ulong Capabilities { get; set; }

            [{|#0:Register(0x4, 4)|}]
            public partial uint Version { get; set; }
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.Overlap).WithLocation(0).WithArguments("Version", 4UL, 8UL, "Capabilities", 0UL, 8UL),
        new DiagnosticResult(DiagnosticDescriptors.Overlap).WithLocation(1).WithArguments("CQ head[0]", 0x1008UL, 0x100CUL, "SQ tail[1]", 0x1008UL, 0x100CUL));

    [Fact]
    public Task SHIO007_array_stride_smaller_than_width() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [{|SHIO007:DoorbellArray("tails", 0x0, 4, 4, 2)|}]
        public partial class Block
        {
        }
        """);

    [Fact]
    public Task SHIO008_array_count_below_one() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [{|SHIO008:DoorbellArray("tails", 0x0, 4, 0, 4)|}]
        [{|SHIO008:DoorbellArray("heads", 0x10, 4, -5, 4)|}]
        public partial class Block
        {
        }
        """);

    [Fact]
    public Task SHIO009_array_arithmetic_overflow() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0xFFFF_FFFF_FFFF_FFFF)]
        [{|SHIO009:DoorbellArray("tails", 0x1000, 4, 3, 0x8000_0000_0000_0000)|}]
        [{|SHIO009:DoorbellArray("heads", 0xFFFF_FFFF_FFFF_FFF0, 8, 2, 8)|}]
        public partial class Block
        {
        }
        """);

    [Fact]
    public Task SHIO010_datamatch_wider_than_the_doorbell() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [{|SHIO010:NotifyDoorbell("notify", 0x10, 2, DataMatch = 0x1_0000)|}]
        public partial class Block
        {
        }
        """);

    [Fact]
    public Task SHIO011_more_than_1000_ioeventfds() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x4000, ShadowSize = 0x4000)]
        [DoorbellArray("tails", 0x1000, 4, 600, 4)]
        [NotifyDoorbell("notify", 0x3000, 4)]
        [{|SHIO011:DoorbellArray("heads", 0x2000, 4, 400, 4)|}]
        public partial class Block
        {
        }
        """);

    [Fact]
    public Task SHIO012_shadow_layout_larger_than_shadow_size() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x4000)]
        [Doorbell("first", 0x1000, 4)]
        [{|SHIO012:DoorbellArray("tails", 0x1008, 4, 512, 8)|}]
        public partial class Block
        {
        }
        """);

    [Fact]
    public Task SHIO013_property_type_does_not_match_width() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [{|SHIO013:Register(0x0, 4)|}]
            public partial ulong Status { get; set; }

            [{|SHIO013:Register(0x8, 8)|}]
            public partial long Address { get; set; }
        }
        """);

    [Fact]
    public Task SHIO013_property_of_a_type_parameter() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block<T> where T : struct
        {
            [{|SHIO013:Register(0x0, 4)|}]
            public partial T Status { get; set; }
        }
        """);

    [Fact]
    public Task SHIO013_not_reported_for_a_property_type_that_does_not_exist() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            // CS0246 is the compiler's; the analyzer once reported SHIO013 ("must be 'uint', not 'Nope'") beside it.
            [Register(0x0, 4)]
            public partial Nope Status { get; set; }
        }
        """);

    [Fact]
    public Task SHIO014_duplicate_doorbell_names() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [Doorbell("tail", 0x0, 4)]
        [{|SHIO014:Doorbell("TAIL", 0x4, 4)|}]
        [{|SHIO014:Doorbell("size", 0x8, 4)|}]
        [DoorbellArray("heads", 0x10, 4, 2, 4)]
        [{|SHIO014:NotifyDoorbell("heads count", 0x20, 4)|}]
        public partial class Block
        {
        }
        """);

    [Fact]
    public Task SHIO014_generated_member_names_collide() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            private int _status;

            [Register(0x0, 4)]
            [Field("EN", 0, 1)]
            public partial uint Cc { get; set; }

            [{|SHIO014:Register(0x4, 4)|}]
            public partial uint CcEn { get; set; }

            [{|SHIO014:Register(0x8, 4)|}]
            public partial uint BlockSize { get; set; }

            [{|SHIO014:Register(0xC, 4)|}]
            public partial uint Status { get; set; }
        }
        """);

    [Fact]
    public Task SHIO022_name_without_identifier() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        [{|SHIO022:Doorbell("!!", 0x0, 4)|}]
        public partial class Block
        {
        }
        """);

    [Fact]
    public Task SHIO023_undefined_register_access() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [{|SHIO023:Register(0x0, 4, Access = (RegisterAccess)9)|}]
            public partial uint Status { get; set; }
        }
        """);

    [Fact]
    public Task SHIO018_register_reset_wider_than_register() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [{|SHIO018:Register(0x0, 1, Reset = 0x100)|}]
            public partial byte Status { get; set; }
        }
        """);

    [Fact]
    public Task SHIO024_attributes_outside_a_register_block() => VerifyAsync("""
        using ShadowIo;
        [{|SHIO024:Doorbell("tail", 0x0, 4)|}]
        public partial class NotABlock
        {
            [{|SHIO024:Register(0x0, 4)|}]
            public uint Status { get; set; }
        }

        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [{|SHIO024:Field("EN", 0, 1)|}]
            public uint Plain { get; set; }
        }
        """);

    [Fact]
    public Task Valid_block_has_no_diagnostics() => Infrastructure.AnalyzerVerifier.VerifyValidAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x2000)]
        [DoorbellArray("SQ tail", 0x1000, 4, 64, 8)]
        [DoorbellArray("CQ head", 0x1004, 4, 64, 8)]
        [NotifyDoorbell("notify", 0x1800, 2, DataMatch = 0xFFFF)]
        public partial class Block
        {
            [Register(0x0, 8, Access = RegisterAccess.ReadOnly)]
            [Field("MQES", 0, 16, Access = FieldAccess.ReadOnly, Reset = 0xFFFF)]
            public partial ulong Cap { get; set; }

            [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
            [Field("NSSRO", 4, 1, Access = FieldAccess.WriteOneToClear)]
            public partial uint Csts { get; set; }
        }
        """);
}
