using Microsoft.CodeAnalysis.Testing;
using static ShadowIo.Generator.Tests.Infrastructure.AnalyzerVerifier;

namespace ShadowIo.Generator.Tests.Diagnostics;

/// <summary>Issue 6's compile-time field checks: one test per check, with the exact span.</summary>
public sealed class FieldDiagnosticTests
{
    [Fact]
    public Task SHIO015_fields_overlap_names_both() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x14, 4)]
            [Field("EN", 0, 1)]
            [Field("CSS", 4, 3)]
            [{|#0:Field("MPS", 6, 4)|}]
            public partial uint Cc { get; set; }
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.FieldOverlap).WithLocation(0).WithArguments("MPS", 6, 9, "CSS", 4, 6, "Cc"));

    [Fact]
    public Task SHIO016_field_past_register_width() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x0, 2)]
            [{|SHIO016:Field("HIGH", 12, 8)|}]
            [{|SHIO016:Field("NEGATIVE", -1, 1)|}]
            public partial ushort Control { get; set; }
        }
        """);

    [Fact]
    public Task SHIO017_field_of_zero_width() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x0, 4)]
            [{|SHIO017:Field("EMPTY", 3, 0)|}]
            public partial uint Control { get; set; }
        }
        """);

    [Fact]
    public Task SHIO018_field_reset_wider_than_field() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x0, 4)]
            [{|SHIO018:Field("SHN", 14, 2, Reset = 4)|}]
            public partial uint Control { get; set; }
        }
        """);

    [Fact]
    public Task SHIO019_enum_value_wider_than_field() => VerifyAsync("""
        using ShadowIo;
        public enum Mode { Off = 0, On = 1, Turbo = 4 }
        public enum Signed { Minus = -1, Zero = 0 }
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x0, 4)]
            [{|SHIO019:Field("MODE", 0, 2, EnumType = typeof(Mode))|}]
            [{|SHIO019:Field("SIGN", 2, 2, EnumType = typeof(Signed))|}]
            [{|SHIO019:Field("TEXT", 4, 2, EnumType = typeof(string))|}]
            public partial uint Control { get; set; }
        }
        """);

    [Fact]
    public Task SHIO019_not_reported_for_an_enum_type_that_does_not_exist() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            // CS0246 is the compiler's; the analyzer once reported SHIO019 ("'Nope' is not an enum") beside it.
            [Register(0x0, 4)]
            [Field("MODE", 0, 2, EnumType = typeof(Nope))]
            public partial uint Control { get; set; }
        }
        """);

    [Fact]
    public Task SHIO020_contradictory_modes() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x0, 4, Access = RegisterAccess.WriteOnly)]
            [{|SHIO020:Field("STATUS", 0, 1, Access = FieldAccess.ReadToClear)|}]
            public partial uint Command { get; set; }

            [Register(0x4, 4, Access = RegisterAccess.WriteOneToClear)]
            [{|SHIO020:Field("MODE", 0, 2, Access = FieldAccess.Toggle)|}]
            public partial uint Events { get; set; }
        }
        """);

    [Fact]
    public Task SHIO021_writable_field_in_read_only_register() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
            [Field("RDY", 0, 1, Access = FieldAccess.ReadOnly)]
            [{|SHIO021:Field("CFS", 1, 1)|}]
            [{|SHIO021:Field("SHST", 2, 2, Access = FieldAccess.Set)|}]
            [Field("NSSRO", 4, 1, Access = FieldAccess.WriteOneToClear)]
            public partial uint Csts { get; set; }
        }
        """);

    [Fact]
    public Task SHIO014_duplicate_field_names() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x0, 4)]
            [Field("EN", 0, 1)]
            [{|SHIO014:Field("en", 1, 1)|}]
            public partial uint Control { get; set; }
        }
        """);

    [Fact]
    public Task SHIO023_undefined_field_access() => VerifyAsync("""
        using ShadowIo;
        [RegisterBlock("block", 0x100)]
        public partial class Block
        {
            [Register(0x0, 4)]
            [{|SHIO023:Field("EN", 0, 1, Access = (FieldAccess)42)|}]
            public partial uint Control { get; set; }
        }
        """);
}
