using System.Globalization;
using CsCheck;
using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests.Robustness;

/// <summary>
/// Issue 5: whatever a user writes, the generator and analyzer never throw (no CS8785, no
/// AD0001). Each flaw injected into a well-formed block is reported under its own rule at its
/// own attribute, and nothing else is reported; well-formed random blocks get no diagnostic and
/// generated code that compiles.
/// </summary>
public sealed class GeneratorRobustnessTests
{
    /// <summary>Inputs tried per property (reported in the generator's note to the lead).</summary>
    public const int ArbitraryInputs = 300;
    public const int FlawedInputs = 300;
    public const int WellFormedInputs = 150;
    public const int DispatchInputs = 40;

    /// <summary>Most flaws injected into one block: enough for flaws to meet, few enough to read a failure.</summary>
    private const int MaxFlawsPerBlock = 4;

    /// <summary>Sizes KVM delivers, plus sizes it never does (dispatch must treat them as undefined).</summary>
    private static readonly int[] s_accessSizes = [1, 2, 3, 4, 8, 16, 0, 5, -1, int.MinValue, int.MaxValue];

    /// <summary>Offsets past the end of the loop below, where offset + size overflows included.</summary>
    private static readonly ulong[] s_farOffsets = [0x3000, int.MaxValue, uint.MaxValue, 1UL << 63, ulong.MaxValue - 7, ulong.MaxValue];

    private static readonly Gen<ulong> s_anyOffset = Gen.OneOf<ulong>(
        Gen.Int[0, 0x3000].Select(i => (ulong)i),
        Gen.Int[0, 0x400].Select(i => (ulong)i * 4),
        Gen.OneOf<ulong>(0UL, 1UL, 3UL, 0xFFFUL, 0x1000UL, int.MaxValue, uint.MaxValue, long.MaxValue, ulong.MaxValue, ulong.MaxValue - 7, 1UL << 63));

    private static readonly Gen<int> s_anyWidth = Gen.Frequency((6, (IGen<int>)Gen.OneOf(1, 2, 4, 8)), (2, Gen.OneOf(-1, 0, 3, 5, 6, 7, 16, int.MaxValue, int.MinValue)));

    private static readonly Gen<int> s_anyCount = Gen.OneOf<int>(Gen.Int[1, 70], Gen.OneOf(int.MinValue, -1, 0, 1, 999, 1000, 1001, int.MaxValue));

    private static readonly Gen<ulong> s_anyStride = Gen.OneOf<ulong>(Gen.Int[0, 64].Select(i => (ulong)i), Gen.OneOf(0UL, 4UL, 8UL, 4096UL, int.MaxValue + 1UL, 1UL << 63, ulong.MaxValue));

    private static readonly Gen<ulong> s_anyValue = Gen.OneOf<ulong>(Gen.Int[0, 16].Select(i => (ulong)i), Gen.OneOf(0xFFUL, 0x100UL, 0xFFFF_FFFFUL, ulong.MaxValue));

    private static readonly Gen<FieldSpec> s_anyField = Gen.Select(
        Gen.OneOf("EN", "CSS", "SHN", "en", "!!", ""), Gen.Int[-2, 66], Gen.Int[-1, 65], Gen.Int[-1, 9], s_anyValue, Gen.OneOf<string?>(null, null, "TwoBits", "Wide", "string"),
        (name, bit, width, access, reset, enumType) => new FieldSpec(name, bit, width, access, reset, enumType));

    private static readonly Gen<RegisterSpec> s_anyRegister = Gen.Select(
        s_anyOffset, s_anyWidth, Gen.OneOf("byte", "ushort", "uint", "ulong", "int", "long", "bool"), Gen.Int[-1, 5], s_anyValue, s_anyField.Array[0, 4], Gen.Frequency((9, true), (1, false)),
        (offset, width, type, access, reset, fields, partial) => new RegisterSpec(offset, width, type, access, reset, fields, partial));

    private static readonly Gen<DoorbellSpec> s_anyDoorbell = Gen.Select(
        Gen.OneOf("Doorbell", "NotifyDoorbell", "DoorbellArray"), Gen.OneOf("SQ tail", "CQ head", "notify", "size", "!!", "sq_tail"), s_anyOffset, s_anyWidth, s_anyCount, s_anyStride, Gen.OneOf<ulong?>(null, 0UL, 3UL, 0x1_0000UL, ulong.MaxValue),
        (kind, name, offset, width, count, stride, match) => new DoorbellSpec(kind, name, offset, width, count, stride, match));

    /// <summary>Anything at all, mostly wrong in several ways at once: only the never-throw property can be asked of it.</summary>
    private static readonly Gen<BlockSpec> s_arbitrary = Gen.Select(
        Gen.OneOf(0UL, 0x100UL, 0x4000UL, ulong.MaxValue), Gen.OneOf(-1, 0, 64, 4096), s_anyRegister.Array[0, 5], s_anyDoorbell.Array[0, 4], Gen.Frequency((9, true), (1, false)),
        (size, shadow, registers, doorbells, partial) => new BlockSpec(size, shadow, registers, doorbells, partial));

    /// <summary>A well-formed random block with 1 to <see cref="MaxFlawsPerBlock"/> distinct flaws injected.</summary>
    private static readonly Gen<FlawedBlock> s_flawed = Gen.Select(
        WellFormed(), Gen.Select(Gen.Int[0, Flaws.All.Count - 1], Gen.Int[0, 63]).Array[1, MaxFlawsPerBlock],
        (spec, flaws) => Flaws.Inject(spec, flaws.DistinctBy(static f => f.Item1)));

    /// <summary>Fixed well-formed blocks each flaw is injected into alone: an empty one and one with a bit of everything.</summary>
    private static readonly Dictionary<string, BlockSpec> s_baseBlocks = new()
    {
        ["empty"] = new BlockSpec(0x2000, 4096, [], []),
        ["populated"] = new BlockSpec(0x2000, 4096,
            [
                new RegisterSpec(0x0, 4, "uint", 0, 1, [new FieldSpec("F0", 0, 1, 0, 1, null), new FieldSpec("F1", 2, 2, 5, 0, "TwoBits")]),
                new RegisterSpec(0x8, 8, "ulong", 1, 0, [new FieldSpec("F0", 0, 16, 1, 0xFFFF, null)]),
                new RegisterSpec(0x10, 1, "byte", 3, 0, []),
            ],
            [
                new DoorbellSpec("DoorbellArray", "D0", 0x1000, 4, 4, 8, null),
                new DoorbellSpec("NotifyDoorbell", "D1", 0x1004, 2, 1, 0, 3),
                new DoorbellSpec("Doorbell", "D2", 0x1100, 8, 1, 0, null),
            ]),
    };

    public static TheoryData<string, int, string> EachFlawAlone()
    {
        var data = new TheoryData<string, int, string>();
        foreach (Flaw flaw in Flaws.All)
        {
            for (int variant = 0; variant < flaw.Variants; variant++)
            {
                foreach (string block in s_baseBlocks.Keys) data.Add(flaw.Name, variant, block);
            }
        }

        return data;
    }

    /// <summary>
    /// Arbitrary blocks are wrong in too many ways at once to say which rules they deserve, but
    /// whatever is reported is reported at one of the block's attributes.
    /// </summary>
    [Fact]
    public void Arbitrary_blocks_never_throw_get_full_code_exactly_when_nothing_is_reported_and_get_reports_only_at_their_attributes()
    {
        int tried = 0;
        s_arbitrary.Sample(spec =>
        {
            Interlocked.Increment(ref tried);
            BlockSource source = spec.ToSource();
            GeneratorRun run = GeneratorHarness.Run(source.Text);
            AssertNeverThrew(run);
            AssertFullCodeExactlyWhenValid(run);
            foreach (Diagnostic diagnostic in run.AnalyzerDiagnostics)
            {
                Assert.True(
                    diagnostic.Location.SourceTree?.FilePath == BlockSpec.FilePath && source.Spans.Values.Contains(diagnostic.Location.SourceSpan),
                    $"{diagnostic.Id} is at {diagnostic.Location}, which is none of the block's attributes: {diagnostic.GetMessage(CultureInfo.InvariantCulture)}");
            }
        }, iter: ArbitraryInputs, threads: 1, print: spec => spec.ToSource().Text);
        Assert.Equal(ArbitraryInputs, tried);
    }

    [Theory]
    [MemberData(nameof(EachFlawAlone))]
    public void Each_flaw_alone_is_reported_under_its_own_rule_at_its_own_attribute(string flaw, int variant, string block)
    {
        int index = Flaws.All.Select(static f => f.Name).ToList().IndexOf(flaw);
        FlawedBlock flawed = Flaws.Inject(s_baseBlocks[block], [(index, variant)]);
        GeneratorRun run = GeneratorHarness.Run(flawed.Spec.ToSource().Text);
        AssertNeverThrew(run);
        AssertFullCodeExactlyWhenValid(run);
        FlawAssert.ReportedExactly(flawed, run);
    }

    [Fact]
    public void Flaws_in_random_blocks_each_draw_their_own_rule_at_their_own_attribute_and_nothing_else()
    {
        int tried = 0;
        s_flawed.Sample(flawed =>
        {
            Interlocked.Increment(ref tried);
            GeneratorRun run = GeneratorHarness.Run(flawed.Spec.ToSource().Text);
            AssertNeverThrew(run);
            AssertFullCodeExactlyWhenValid(run);
            FlawAssert.ReportedExactly(flawed, run);
        }, iter: FlawedInputs, threads: 1, print: flawed => flawed.ToString());
        Assert.Equal(FlawedInputs, tried);
    }

    [Fact]
    public void Flaws_cover_every_rule_of_the_analyzer()
    {
        string[] rules = [.. new RegisterBlockAnalyzer().SupportedDiagnostics.Select(static d => d.Id)];
        string[] expected = [.. Flaws.All.Select(static f => f.Id), .. Flaws.BlockWideRules];
        Assert.True(rules.Except(expected).ToArray() is [], $"No injected flaw is expected to draw {string.Join(", ", rules.Except(expected))}");
        Assert.True(expected.Except(rules).ToArray() is [], $"Flaws expect rules the analyzer does not have: {string.Join(", ", expected.Except(rules))}");
    }

    [Fact]
    public void Well_formed_random_blocks_generate_code_that_compiles()
    {
        int tried = 0;
        WellFormed().Sample(spec =>
        {
            Interlocked.Increment(ref tried);
            GeneratorRun run = GeneratorHarness.Run(spec.ToSource().Text);
            AssertNeverThrew(run);
            Assert.Empty(run.AnalyzerDiagnostics);
            Assert.Single(run.GeneratedSources);
            Assert.Empty(run.Errors);
        }, iter: WellFormedInputs, threads: 1, print: spec => spec.ToSource().Text);
        Assert.Equal(WellFormedInputs, tried);
    }

    [Fact]
    public void Dispatch_of_random_blocks_never_throws_and_read_write_registers_read_back()
    {
        int tried = 0;
        WellFormed().Sample(spec =>
        {
            Interlocked.Increment(ref tried);
            GeneratorRun run = GeneratorHarness.Run(spec.ToSource().Text);
            using var loaded = LoadedBlock.Load(run.Output);
            IMmioDevice device = loaded.Create("Block");
            foreach (int size in s_accessSizes)
            {
                // Every offset of the 0x2000-byte block (registers low, doorbells from 0x1000) and just past it.
                foreach (ulong offset in Enumerable.Range(0, 0x2010).Select(static i => (ulong)i).Concat(s_farOffsets))
                {
                    device.WriteMmio(offset, size, 0xA5A5_5A5A_F00D_CAFE ^ offset);
                    _ = device.ReadMmio(offset, size);
                }
            }

            for (int i = 0; i < spec.Registers.Length; i++)
            {
                RegisterSpec register = spec.Registers[i];
                if (register.Access != 0 || register.Fields.Length != 0) continue;
                ulong value = 0x0123_4567_89AB_CDEF & (register.Width == 8 ? ulong.MaxValue : (1UL << (register.Width * 8)) - 1);
                device.WriteMmio(register.Offset, register.Width, value);
                Assert.Equal(value, device.ReadMmio(register.Offset, register.Width));
            }
        }, iter: DispatchInputs, threads: 1, print: spec => spec.ToSource().Text);
        Assert.Equal(DispatchInputs, tried);
    }

    /// <summary>
    /// A valid block gets the full generated file; an invalid one at most the implementing parts of
    /// its declarations (no dispatch, no doorbell table), and no generated file holds an error.
    /// </summary>
    private static void AssertFullCodeExactlyWhenValid(GeneratorRun run)
    {
        Assert.True(run.GeneratedSources.Length <= 1);
        bool full = run.GeneratedSources.Any(static s => s.SourceText.ToString().Contains("ReadMmio(ulong offset, int size)", StringComparison.Ordinal));
        Assert.Equal(run.AnalyzerDiagnostics.IsEmpty, full);
        // Nothing is generated for a class that is not partial (SHIO001): its partial members are CS0751 anyway.
        bool emitted = run.GeneratedSources.Length == 1;
        Assert.DoesNotContain(run.CompilerDiagnostics, d => d.Severity == DiagnosticSeverity.Error
            && ((emitted && d.Id is "CS9248" or "CS0759") || d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true));
    }

    private static void AssertNeverThrew(GeneratorRun run)
    {
        Assert.Null(run.GeneratorException);
        Assert.Empty(run.AnalyzerExceptions);
        Assert.DoesNotContain(run.CompilerDiagnostics.Concat(run.Result.Diagnostics).Concat(run.AnalyzerDiagnostics), d => d.Id is "CS8785" or "AD0001");
    }

    /// <summary>
    /// Registers in 8-byte slots, fields packed without overlap with modes their register allows,
    /// doorbells laid out one after another above 0x1000.
    /// </summary>
    private static Gen<BlockSpec> WellFormed()
    {
        Gen<RegisterSpec> register = Gen.Select(Gen.OneOf(1, 2, 4, 8), Gen.Int[0, 3], Gen.Int[0, 6], Gen.Int[0, 7].Array[8], Gen.Int[1, 16].Array[8])
            .Select((width, access, fieldCount, modes, widths) =>
            {
                var fields = new List<FieldSpec>();
                int bit = 0;
                for (int i = 0; i < fieldCount && bit < width * 8; i++)
                {
                    int fieldWidth = Math.Min(widths[i], (width * 8) - bit);
                    int mode = AllowedMode(access, modes[i]);
                    fields.Add(new FieldSpec($"F{i}", bit, fieldWidth, mode, (ulong)i & ((1UL << fieldWidth) - 1), fieldWidth >= 2 && i % 3 == 0 ? "TwoBits" : null));
                    bit += fieldWidth + (i % 2);
                }

                string type = width switch { 1 => "byte", 2 => "ushort", 4 => "uint", _ => "ulong" };
                return new RegisterSpec(0, width, type, access, 1, [.. fields]);
            });

        Gen<DoorbellSpec> doorbell = Gen.Select(Gen.OneOf("Doorbell", "NotifyDoorbell", "DoorbellArray"), Gen.OneOf(1, 2, 4, 8), Gen.Int[1, 8], Gen.Int[1, 3])
            .Select((kind, width, count, spacing) => new DoorbellSpec(kind, "", 0, width, kind == "DoorbellArray" ? count : 1, (ulong)(width * spacing), kind == "NotifyDoorbell" && count % 2 == 0 ? (ulong)count : null));

        return Gen.Select(register.Array[0, 8], doorbell.Array[0, 6], (registers, doorbells) =>
        {
            var placedRegisters = registers.Select((r, i) => r with { Offset = (ulong)i * 8 }).ToArray();
            ulong next = 0x1000;
            var placedDoorbells = new List<DoorbellSpec>();
            for (int i = 0; i < doorbells.Length; i++)
            {
                DoorbellSpec d = doorbells[i];
                placedDoorbells.Add(d with { Name = $"D{i}", Offset = next });
                next += ((ulong)(d.Count - 1) * d.Stride) + (ulong)d.Width;
                next = (next + 7) & ~7UL;
            }

            return new BlockSpec(0x2000, 4096, placedRegisters, [.. placedDoorbells]);
        });
    }

    /// <summary>A field mode the register's access allows (see SHIO020/SHIO021).</summary>
    private static int AllowedMode(int registerAccess, int wanted) => registerAccess switch
    {
        1 => new[] { 1, 7, 5, 6 }[wanted % 4],  // read-only register: RO, RC, W1C, W0C
        2 => new[] { 0, 2, 3, 4, 5, 6 }[wanted % 6], // write-only register: nothing that must be read
        3 => new[] { 5, 1, 7 }[wanted % 3],     // W1C register: W1C, RO, RC
        _ => wanted,
    };
}
