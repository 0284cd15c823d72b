using CsCheck;
using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Tests.Infrastructure;

namespace ShadowIo.Generator.Tests.Robustness;

/// <summary>
/// Issue 5: whatever a user writes, the generator and analyzer never throw (no CS8785, no
/// AD0001). Malformed blocks each get a ShadowIo diagnostic and no generated code; well-formed
/// random blocks get no diagnostic and generated code that compiles.
/// </summary>
public sealed class GeneratorRobustnessTests
{
    /// <summary>Inputs tried per property (reported in the generator's note to the lead).</summary>
    public const int MalformedInputs = 400;
    public const int WellFormedInputs = 150;
    public const int DispatchInputs = 40;

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

    /// <summary>One flaw every malformed block carries, so each must draw a diagnostic.</summary>
    private static readonly Gen<Func<BlockSpec, BlockSpec>> s_flaw = Gen.OneOf<Func<BlockSpec, BlockSpec>>(
        b => b with { Partial = false },
        b => b with { Registers = [.. b.Registers, new RegisterSpec(0x3000, 3, "uint", 0, 0, [])] },
        b => b with { Registers = [.. b.Registers, new RegisterSpec(0x3002, 4, "uint", 0, 0, [])] },
        b => b with { Registers = [.. b.Registers, new RegisterSpec(0x3000, 4, "ulong", 0, 0, [])] },
        b => b with { Registers = [.. b.Registers, new RegisterSpec(0x3000, 4, "uint", 0, 0, [new FieldSpec("Z", 0, 0, 0, 0, null)])] },
        b => b with { Registers = [.. b.Registers, new RegisterSpec(0x3000, 4, "uint", 1, 0, [new FieldSpec("W", 0, 1, 0, 0, null)])] },
        b => b with { Registers = [.. b.Registers, new RegisterSpec(ulong.MaxValue - 3, 4, "uint", 0, 0, [])] },
        b => b with { Doorbells = [.. b.Doorbells, new DoorbellSpec("DoorbellArray", "overflow", 0x1000, 4, 3, 1UL << 63, null)] },
        b => b with { Doorbells = [.. b.Doorbells, new DoorbellSpec("DoorbellArray", "empty", 0x1000, 4, 0, 4, null)] },
        b => b with { Doorbells = [.. b.Doorbells, new DoorbellSpec("NotifyDoorbell", "match", 0x1000, 1, 1, 0, 0x100)] },
        b => b with { Doorbells = [.. b.Doorbells, new DoorbellSpec("DoorbellArray", "many", 0x1000, 4, 1001, 4, null)] },
        b => b with { Doorbells = [.. b.Doorbells, new DoorbellSpec("Doorbell", "dup", 0x1000, 4, 1, 0, null), new DoorbellSpec("Doorbell", "DUP", 0x1004, 4, 1, 0, null)] });

    private static readonly Gen<BlockSpec> s_malformed = Gen.Select(
        Gen.OneOf(0UL, 0x100UL, 0x4000UL, ulong.MaxValue), Gen.OneOf(-1, 0, 64, 4096), s_anyRegister.Array[0, 5], s_anyDoorbell.Array[0, 4], s_flaw,
        (size, shadow, registers, doorbells, flaw) => flaw(new BlockSpec(size, shadow, registers, doorbells)));

    [Fact]
    public void Malformed_blocks_never_throw_and_always_get_a_diagnostic()
    {
        int tried = 0;
        s_malformed.Sample(spec =>
        {
            Interlocked.Increment(ref tried);
            GeneratorRun run = GeneratorHarness.Run(spec.ToSource());
            AssertNeverThrew(run);
            Assert.Empty(run.GeneratedSources);
            Assert.Contains(run.AnalyzerDiagnostics, d => d.Id.StartsWith("SHIO", StringComparison.Ordinal) && d.Location.IsInSource);
        }, iter: MalformedInputs, threads: 1, print: spec => spec.ToSource());
        Assert.Equal(MalformedInputs, tried);
    }

    [Fact]
    public void Well_formed_random_blocks_generate_code_that_compiles()
    {
        int tried = 0;
        WellFormed().Sample(spec =>
        {
            Interlocked.Increment(ref tried);
            GeneratorRun run = GeneratorHarness.Run(spec.ToSource());
            AssertNeverThrew(run);
            Assert.Empty(run.AnalyzerDiagnostics);
            Assert.Single(run.GeneratedSources);
            Assert.Empty(run.Errors);
        }, iter: WellFormedInputs, threads: 1, print: spec => spec.ToSource());
        Assert.Equal(WellFormedInputs, tried);
    }

    [Fact]
    public void Dispatch_of_random_blocks_never_throws_and_read_write_registers_read_back()
    {
        int tried = 0;
        WellFormed().Sample(spec =>
        {
            Interlocked.Increment(ref tried);
            GeneratorRun run = GeneratorHarness.Run(spec.ToSource());
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
        }, iter: DispatchInputs, threads: 1, print: spec => spec.ToSource());
        Assert.Equal(DispatchInputs, tried);
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
