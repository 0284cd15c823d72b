using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace ShadowIo.Generator.Tests.PackagedBuild;

/// <summary>
/// Issue 13 §1: a broken register map shows its SHIO diagnostics in a real command-line
/// <c>dotnet build</c> of a project outside the solution that references the packed ShadowIo
/// package, and nothing else: no CS error. <c>csc</c> does not run analyzers once the
/// declarations have errors, so this holds only if the generator still implements every partial
/// declaration of an invalid block (the analyzer test harness runs the analyzer regardless, which
/// is why only a real build can show it). Each broken block sits in a file of its own; all are
/// built at once, one build for every case.
/// </summary>
public sealed partial class DotnetBuildDiagnosticsTests(PackagedShadowIo package) : IClassFixture<PackagedShadowIo>
{
    /// <summary>
    /// Broken maps, one per file, with <c>{|SHIOxxx:…|}</c> around the exact span each diagnostic
    /// must be at, and the messages in the order of the markers. Hooks and field accessors are used
    /// beside the errors, as a device would: they must keep compiling.
    /// </summary>
    private static readonly BrokenFile[] s_brokenFiles =
    [
        new("RegisterOverlap.cs", """
            using ShadowIo;
            [RegisterBlock("overlap", 0x100)]
            public sealed partial class RegisterOverlap
            {
                [Register(0x28, 8)]
                public partial ulong Asq { get; set; }

                [{|SHIO006:Register(0x2C, 4)|}]
                public partial uint Acq { get; set; }

                partial void OnAcqWritten(uint previous, uint value) => Asq = value;
            }
            """,
            ["'Acq' [0x2C, 0x30) overlaps 'Asq' [0x28, 0x30)"]),
        new("MisalignedRegister.cs", """
            using ShadowIo;
            [RegisterBlock("misaligned", 0x100)]
            public sealed partial class MisalignedRegister
            {
                [{|SHIO004:Register(0x6, 4)|}]
                [Field("EN", 0, 1)]
                public partial uint Cc { get; set; }

                public bool Enabled => CcEn && (Cc & CcFields.EnMask) != 0 && CcOffset == 6;
            }
            """,
            ["'Cc' at offset 0x6 is not aligned to its width of 4 bytes"]),
        new("WidthThree.cs", """
            using ShadowIo;
            [RegisterBlock("width three", 0x100)]
            public sealed partial class WidthThree
            {
                [{|SHIO003:Register(0x0, 3)|}]
                public partial uint Odd { get; set; }

                partial void OnOddWritten(uint previous, uint value) { }
            }
            """,
            ["'Odd' has width 3; an MMIO register or doorbell is 1, 2, 4 or 8 bytes wide"]),
        new("UintDeclaredWidthEight.cs", """
            using ShadowIo;
            [RegisterBlock("uint as 8", 0x100)]
            public sealed partial class UintDeclaredWidthEight
            {
                [{|SHIO013:Register(0x8, 8)|}]
                [Field("RDY", 0, 1)]
                public partial uint Cap { get; set; }

                partial void OnCapWritten(uint previous, uint value) => CapRdy = (value & 1) != 0;
            }
            """,
            ["Register 'Cap' is 8 bytes wide, so its property type must be 'ulong', not 'uint'"]),
        new("RegisterPastBlock.cs", """
            using ShadowIo;
            [RegisterBlock("short block", 0x100)]
            public sealed partial class RegisterPastBlock
            {
                [Register(0x0, 4)]
                public partial uint Inside { get; set; }

                [{|SHIO005:Register(0x100, 8)|}]
                public partial ulong Outside { get; set; }

                public ulong Span => BlockSize - OutsideOffset;
            }
            """,
            ["'Outside' ends at offset 0x108, beyond the block size 0x100"]),
        new("FieldPastRegister.cs", """
            using ShadowIo;
            [RegisterBlock("fields", 0x100)]
            public sealed partial class FieldPastRegister
            {
                [Register(0x14, 4)]
                [Field("EN", 0, 1)]
                [{|SHIO016:Field("IOCQES", 30, 4)|}]
                public partial uint Cc { get; set; }

                partial void OnCcWritten(uint previous, uint value) => CcEn = false;
            }
            """,
            ["Field 'IOCQES' (bit 30, width 4) does not fit the 32-bit register 'Cc'"]),
        new("FieldOverlap.cs", """
            using ShadowIo;
            [RegisterBlock("field overlap", 0x100)]
            public sealed partial class FieldOverlap
            {
                [Register(0x1C, 4)]
                [Field("RDY", 0, 2)]
                [{|SHIO015:Field("CFS", 1, 1)|}]
                public partial uint Csts { get; set; }

                public uint Ready => CstsRdy;
            }
            """,
            ["Field 'CFS' (bits 1..1) overlaps field 'RDY' (bits 0..1) in register 'Csts'"]),
        new("DoorbellOverlap.cs", """
            using ShadowIo;
            [RegisterBlock("doorbells", 0x2000)]
            [DoorbellArray("SQ tail", 0x1000, 4, 4, 8)]
            [{|SHIO006:Doorbell("CQ head", 0x1008, 4)|}]
            public sealed partial class DoorbellOverlap
            {
                [Register(0x0, 4)]
                public partial uint Status { get; set; }

                partial void OnStatusWritten(uint previous, uint value) { }
                partial void OnDoorbellWritten(int row, ulong value) => Status = (uint)row;

                // A declaration naming a generated type: it must not become a CS error that hides SHIO006.
                public static bool Reads(DoorbellReader reader) => reader.Equals(default(DoorbellReader));
            }
            """,
            ["'CQ head' [0x1008, 0x100C) overlaps 'SQ tail[1]' [0x1008, 0x100C)"]),
        new("DataMatchTooWide.cs", """
            using ShadowIo;
            [RegisterBlock("notify", 0x100)]
            [{|SHIO010:NotifyDoorbell("kick", 0x50, 2, DataMatch = 0x1_0000)|}]
            public sealed partial class DataMatchTooWide
            {
                [Register(0x0, 4)]
                public partial uint Status { get; set; }
            }
            """,
            ["Notify doorbell 'kick' has datamatch 0x10000, which does not fit its 2-byte width"]),
        new("SharedNotifyAddress.cs", """
            using ShadowIo;
            [RegisterBlock("virtio-mmio", 0x200)]
            [NotifyDoorbell("queue 0", 0x50, 4, DataMatch = 0)]
            [NotifyDoorbell("queue 1", 0x50, 4, DataMatch = 1)]
            [{|SHIO025:NotifyDoorbell("queue 2", 0x50, 4, DataMatch = 1)|}]
            [{|SHIO026:NotifyDoorbell("any queue", 0x50, 4)|}]
            public sealed partial class SharedNotifyAddress
            {
                [Register(0x70, 4)]
                public partial uint Status { get; set; }

                partial void OnDoorbellWritten(int row, ulong value) => Status = (uint)value;
            }
            """,
            ["'queue 1' and 'queue 2' at offset 0x50 both have datamatch 0x1",
             "'any queue' at offset 0x50 has no datamatch, but 'queue 0' on the same address has one: doorbells sharing an address each need a datamatch of their own"]),
        new("PortBlock.cs", """
            using ShadowIo;
            [{|SHIO027:RegisterBlock("legacy io", 0x2_0000, AddressSpace = AddressSpace.Port)|}]
            [{|SHIO028:Doorbell("tail", 0x10, 8)|}]
            public sealed partial class PortBlock
            {
                [{|SHIO028:Register(0x0, 8)|}]
                public partial ulong Features { get; set; }

                [Register(0x8, 2)]
                public partial ushort QueueSelect { get; set; }

                partial void OnQueueSelectWritten(ushort previous, ushort value) => Features = value;
            }
            """,
            ["Port I/O block 'legacy io' is 0x20000 bytes, larger than the 64 KiB x86 port space",
             "'tail' is 8 bytes wide, but x86 port I/O accesses are 1, 2 or 4 bytes",
             "'Features' is 8 bytes wide, but x86 port I/O accesses are 1, 2 or 4 bytes"]),
    ];

    [Fact]
    public void A_broken_map_shows_exactly_its_SHIO_errors_in_dotnet_build_and_no_CS_error()
    {
        UserProject project = package.CreateProject("BrokenMaps", s_brokenFiles.ToDictionary(static f => f.Name, static f => f.Source));
        DotnetResult build = project.Build();

        BuildDiagnostic[] reported = BuildDiagnostic.Parse(build.Output);
        BuildDiagnostic[] expected = [.. s_brokenFiles.SelectMany(f => f.Expected(project.Directory))];
        Assert.True(reported.Length > 0, $"dotnet build printed no diagnostics (exit code {build.ExitCode}):{Environment.NewLine}{build.Output}");
        Assert.DoesNotContain(reported, static d => d.Id.StartsWith("CS", StringComparison.Ordinal));
        Assert.Equal(
            expected.OrderBy(static d => d.ToString(), StringComparer.Ordinal).Select(static d => d.ToString()),
            reported.OrderBy(static d => d.ToString(), StringComparer.Ordinal).Select(static d => d.ToString()));
        Assert.NotEqual(0, build.ExitCode);
    }

    [Fact]
    public void A_valid_map_builds_from_the_package_with_no_diagnostic_at_all()
    {
        UserProject project = package.CreateProject("ValidMap", new Dictionary<string, string>
        {
            ["Registers.cs"] = """
                using ShadowIo;
                [RegisterBlock("NVMe BAR0", 0x2000)]
                [DoorbellArray("SQ tail", 0x1000, 4, 4, 8)]
                [DoorbellArray("CQ head", 0x1004, 4, 4, 8)]
                public sealed partial class Bar0
                {
                    [Register(0x14, 4)]
                    [Field("EN", 0, 1)]
                    public partial uint Cc { get; set; }

                    [Register(0x1C, 4, Access = RegisterAccess.ReadOnly)]
                    [Field("RDY", 0, 1, Access = FieldAccess.ReadOnly)]
                    public partial uint Csts { get; set; }

                    partial void OnCcWritten(uint previous, uint value) => CstsRdy = CcEn;
                }

                public static class Device
                {
                    public static ulong Ring(Bar0 bar0, int queue)
                    {
                        bar0.WriteMmio(Bar0.CcOffset, 4, 1);
                        return bar0.ReadMmio(Bar0.CstsOffset, 4) + (ulong)Bar0.DoorbellTable[Bar0.DoorbellIndex.SqTail + queue].Offset;
                    }
                }
                """,
        });
        DotnetResult build = project.Build();

        Assert.True(build.ExitCode == 0, $"dotnet build failed (exit code {build.ExitCode}):{Environment.NewLine}{build.Output}");
        Assert.Empty(BuildDiagnostic.Parse(build.Output));
    }

    [Fact]
    public void The_package_carries_the_generator_beside_the_runtime_and_the_docs_its_help_links_name()
    {
        using var nupkg = System.IO.Compression.ZipFile.OpenRead(package.PackagePath);
        string[] entries = [.. nupkg.Entries.Select(static e => e.FullName)];
        Assert.Contains("lib/net10.0/ShadowIo.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/ShadowIo.Generator.dll", entries);
        Assert.Contains("docs/diagnostics.md", entries);
        Assert.Contains("docs/generated-api.md", entries);
    }

    /// <summary>One broken map: its file name, its source with markers, and the message of each marker in order.</summary>
    private sealed partial record BrokenFile(string Name, string Markup, string[] Messages)
    {
        public string Source => Marker().Replace(Markup, "${text}");

        public IEnumerable<BuildDiagnostic> Expected(string projectDirectory)
        {
            MatchCollection markers = Marker().Matches(Markup);
            Assert.Equal(Messages.Length, markers.Count);
            int removed = 0;
            for (int i = 0; i < markers.Count; i++)
            {
                Match marker = markers[i];
                int start = marker.Index - removed;
                removed += marker.Length - marker.Groups["text"].Length;
                string before = Source[..start];
                int line = before.Count(static c => c == '\n') + 1;
                int column = start - (before.LastIndexOf('\n') + 1) + 1;
                string id = marker.Groups["id"].Value;
                yield return new BuildDiagnostic(Path.Combine(projectDirectory, Name), line, column, "error", id, $"{Messages[i]} ({HelpLink(id)})");
            }
        }

        [GeneratedRegex(@"\{\|(?<id>[A-Z]+[0-9]+):(?<text>.*?)\|\}")]
        private static partial Regex Marker();
    }

    /// <summary>The help link the descriptor carries, which MSBuild prints after the message.</summary>
    private static string HelpLink(string id) =>
        typeof(DiagnosticDescriptors).GetFields()
            .Select(static f => f.GetValue(null))
            .OfType<DiagnosticDescriptor>()
            .Single(d => d.Id == id).HelpLinkUri;
}

/// <summary>One diagnostic line of MSBuild's console output: <c>file(line,column): error ID: message [project]</c>.</summary>
public sealed partial record BuildDiagnostic(string File, int Line, int Column, string Severity, string Id, string Message)
{
    /// <summary>Every distinct diagnostic line (MSBuild may print one more than once).</summary>
    public static BuildDiagnostic[] Parse(string output) =>
        [.. output.Split('\n')
            .Select(static line => DiagnosticLine().Match(line.TrimEnd('\r')))
            .Where(static m => m.Success)
            .Select(static m => new BuildDiagnostic(
                m.Groups["file"].Value,
                int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups["column"].Value, CultureInfo.InvariantCulture),
                m.Groups["severity"].Value,
                m.Groups["id"].Value,
                m.Groups["message"].Value))
            .Distinct()];

    public override string ToString() => $"{File}({Line},{Column}): {Severity} {Id}: {Message}";

    [GeneratedRegex(@"^\s*(?<file>[^\s(][^(]*)\((?<line>\d+),(?<column>\d+)\): (?<severity>error|warning) (?<id>[A-Z]+\d+): (?<message>.*?)(?: \[[^\[\]]+\])?$")]
    private static partial Regex DiagnosticLine();
}
