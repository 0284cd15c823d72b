namespace ShadowIo.Generator.Tests.Robustness;

/// <summary>A flaw injected into a block, with the diagnostic it must draw.</summary>
public sealed record InjectedFlaw(Flaw Flaw, int Variant, SpecElement At)
{
    public override string ToString() => $"'{Flaw.Name}' (variant {Variant}) → {Flaw.Id} at {At}";
}

/// <summary>
/// One kind of mistake, injected into a well-formed block by appending declarations of its own
/// (or, for the class itself, by changing it), and the one rule it must be reported under.
/// </summary>
/// <param name="Variants">How many versions of the mistake there are (widths, values, offsets), 0 to Variants − 1.</param>
/// <param name="Inject">Adds version <c>variant</c> of the flaw to a block; returns the block and the attribute the diagnostic belongs at.</param>
public sealed record Flaw(string Name, string Id, int Variants, Func<BlockSpec, FlawSlot, int, (BlockSpec Spec, SpecElement At)> Inject)
{
    /// <summary>Compiler errors the flaw is in C# itself (besides ours), which the compiler reports as well.</summary>
    public string[] CompilerErrors { get; init; } = [];

    public override string ToString() => Name;
}

/// <summary>
/// Free space reserved for one flaw, so that flaws in the same block never touch each other or
/// the base block (registers below 0x40, doorbells in [0x1000, 0x1600)): 32 bytes of registers
/// and 256 bytes of doorbells, all inside <see cref="Flaws.BlockSize"/> and the shadow page.
/// </summary>
public readonly record struct FlawSlot(ulong Register, ulong Doorbell);

/// <summary>
/// Every flaw the robustness tests inject, each mapped to its rule (generator/docs/diagnostics.md).
/// A flaw declares its own registers and doorbells in its own <see cref="FlawSlot"/>, so the only
/// diagnostic it can cause is its own, at the attribute it names.
/// </summary>
public static class Flaws
{
    /// <summary>A flawed block is larger than the base's 0x2000 so every flaw has room of its own.</summary>
    public const ulong BlockSize = 0x1_0000;

    /// <summary>Big enough for every flaw's doorbells over the base's; smaller than the block, so SHIO012 can be provoked.</summary>
    public const int ShadowSize = 0x8000;

    /// <summary>The one flaw that needs 1001 doorbells gets this range of its own, above every slot.</summary>
    private const ulong ManyDoorbellsOffset = 0x6000;

    /// <summary>A value doorbell this far up ends beyond any shadow layout that starts at or below a slot.</summary>
    private const ulong FarDoorbellOffset = 0xFFF0;

    /// <summary>
    /// Rules no flaw here injects: they need the whole block in the port space (SHIO027 a block
    /// over 64 KiB, SHIO028 an 8-byte access in it), which changes what every other declaration
    /// of a random block may be; and the register-set rules (SHIO030-034), which need a nested
    /// set class the random blocks do not generate. PortBlockDiagnosticTests,
    /// RegisterSetDiagnosticTests and the packaged build cover them.
    /// </summary>
    public static IReadOnlyList<string> BlockWideRules { get; } = ["SHIO027", "SHIO028", "SHIO030", "SHIO031", "SHIO032", "SHIO033", "SHIO034"];

    public static IReadOnlyList<Flaw> All { get; } =
    [
        // Partial register properties in a class that is not partial are also CS0751, and no part of
        // the class can be generated (another part would be CS0260), so they stay CS9248 too.
        Single("class not partial", "SHIO001", static (b, _) => (b with { Partial = false }, SpecElement.BlockAttribute)) with { CompilerErrors = ["CS0751", "CS9248"] },
        Single("register property not partial", "SHIO002", static (b, s) => AddRegister(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [], Partial: false))),
        Varied("register width not 1, 2, 4 or 8", "SHIO003", [3, 0, -1, 5, 16, int.MaxValue, int.MinValue],
            static (b, s, width) => AddRegister(b, new RegisterSpec(s.Register, width, "uint", 0, 0, []))),
        Varied("doorbell width not 1, 2, 4 or 8", "SHIO003", [("Doorbell", 3), ("NotifyDoorbell", 0), ("DoorbellArray", 7), ("Doorbell", int.MinValue)],
            static (b, s, v) => AddDoorbells(b, new DoorbellSpec(v.Item1, "odd width", s.Doorbell, v.Item2, 1, 8, null))),
        Varied("register offset not aligned", "SHIO004", [(2, 1UL, "ushort"), (4, 2UL, "uint"), (8, 4UL, "ulong"), (8, 1UL, "ulong")],
            static (b, s, v) => AddRegister(b, new RegisterSpec(s.Register + v.Item2, v.Item1, v.Item3, 0, 0, []))),
        Varied("doorbell not aligned", "SHIO004", [("DoorbellArray", 0UL, 6UL), ("Doorbell", 2UL, 0UL), ("NotifyDoorbell", 1UL, 0UL), ("DoorbellArray", 2UL, 4UL)],
            static (b, s, v) => AddDoorbells(b, new DoorbellSpec(v.Item1, "odd place", s.Doorbell + v.Item2, 4, 2, v.Item3, null))),
        Varied("register beyond the block", "SHIO005", [ulong.MaxValue - 3, BlockSize, 1UL << 63],
            static (b, _, offset) => AddRegister(b, new RegisterSpec(offset, 4, "uint", 0, 0, []))),
        // Not at the offsets "register beyond the block" takes: two such flaws in one block would
        // overlap each other out there (SHIO006), which neither flaw is about.
        Varied("notify doorbell beyond the block", "SHIO005", [BlockSize + 0x100, ulong.MaxValue - 0x107],
            static (b, _, offset) => AddDoorbells(b, new DoorbellSpec("NotifyDoorbell", "past end", offset, 4, 1, 0, null))),
        Single("registers overlap", "SHIO006", static (b, s) => AddRegisters(b,
            new RegisterSpec(s.Register, 8, "ulong", 0, 0, []),
            new RegisterSpec(s.Register + 4, 4, "uint", 0, 0, []))),
        Varied("doorbells overlap", "SHIO006", [("Doorbell", 0UL), ("NotifyDoorbell", 0UL), ("DoorbellArray", 12UL)],
            static (b, s, v) => AddDoorbells(b,
                new DoorbellSpec("DoorbellArray", "overlap a", s.Doorbell, 4, 4, 8, null),
                new DoorbellSpec(v.Item1, "overlap b", s.Doorbell + 8 + v.Item2, 4, 2, 4, null))),
        Varied("datamatch repeated on a shared address", "SHIO025", [(4, 0UL), (2, 7UL), (1, 0xFFUL)],
            static (b, s, v) => AddDoorbells(b,
                new DoorbellSpec("NotifyDoorbell", "queue a", s.Doorbell, v.Item1, 1, 0, v.Item2),
                new DoorbellSpec("NotifyDoorbell", "queue b", s.Doorbell, v.Item1, 1, 0, v.Item2 ^ 1),
                new DoorbellSpec("NotifyDoorbell", "queue c", s.Doorbell, v.Item1, 1, 0, v.Item2))),
        Varied("doorbell without datamatch on a shared address", "SHIO026", ["NotifyDoorbell", "Doorbell"],
            static (b, s, kind) => AddDoorbells(b,
                new DoorbellSpec("NotifyDoorbell", "queue 0", s.Doorbell, 4, 1, 0, 0),
                new DoorbellSpec(kind, "any value", s.Doorbell, 4, 1, 0, null))),
        Varied("array stride below its width", "SHIO007", [(4, 2UL), (8, 4UL), (2, 0UL)],
            static (b, s, v) => AddDoorbells(b, new DoorbellSpec("DoorbellArray", "tight", s.Doorbell, v.Item1, 2, v.Item2, null))),
        Varied("array count below 1", "SHIO008", [0, -1, int.MinValue],
            static (b, s, count) => AddDoorbells(b, new DoorbellSpec("DoorbellArray", "empty", s.Doorbell, 4, count, 4, null))),
        Varied("array arithmetic overflows", "SHIO009", [(3, 1UL << 63), (2, ulong.MaxValue), (2, int.MaxValue + 1UL)],
            static (b, s, v) => AddDoorbells(b, new DoorbellSpec("DoorbellArray", "overflow", s.Doorbell, 4, v.Item1, v.Item2, null))),
        Varied("datamatch wider than its doorbell", "SHIO010", [(1, 0x100UL), (2, 0x1_0000UL), (4, 0x1_0000_0000UL), (1, ulong.MaxValue)],
            static (b, s, v) => AddDoorbells(b, new DoorbellSpec("NotifyDoorbell", "match", s.Doorbell, v.Item1, 1, 0, v.Item2))),
        Single("more than 1000 doorbells", "SHIO011", static (b, _) => AddDoorbells(b, new DoorbellSpec("DoorbellArray", "many", ManyDoorbellsOffset, 1, 1001, 1, null))),
        Single("shadow layout beyond ShadowSize", "SHIO012", static (b, s) => AddDoorbells(b,
            new DoorbellSpec("Doorbell", "near", s.Doorbell, 4, 1, 0, null),
            new DoorbellSpec("Doorbell", "far", FarDoorbellOffset, 4, 1, 0, null))),
        Varied("property type does not match the width", "SHIO013", [(4, "ulong"), (4, "int"), (4, "bool"), (8, "long"), (1, "sbyte"), (2, "uint")],
            static (b, s, v) => AddRegister(b, new RegisterSpec(s.Register, v.Item1, v.Item2, 0, 0, []))),
        Varied("doorbell names collide", "SHIO014", [("dup", "DUP"), ("sq tail", "SqTail"), ("heads", "heads count")],
            static (b, s, v) => AddDoorbells(b,
                new DoorbellSpec("DoorbellArray", v.Item1, s.Doorbell, 4, 2, 4, null),
                new DoorbellSpec("Doorbell", v.Item2, s.Doorbell + 8, 4, 1, 0, null))),
        Single("field names collide", "SHIO014", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("EN", 0, 1), Field("en", 1, 1)]))),
        Single("fields overlap", "SHIO015", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("A", 0, 4), Field("B", 2, 4)]))),
        Varied("field past the register", "SHIO016", [(30, 4), (-1, 1), (0, 33), (int.MaxValue, 1)],
            static (b, s, v) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("HIGH", v.Item1, v.Item2)]))),
        Varied("field of no width", "SHIO017", [0, -1, int.MinValue],
            static (b, s, width) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("Z", 0, width)]))),
        Varied("field reset wider than the field", "SHIO018", [(2, 4UL), (1, 2UL), (31, ulong.MaxValue)],
            static (b, s, v) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("SHN", 0, v.Item1) with { Reset = v.Item2 }]))),
        Varied("register reset wider than the register", "SHIO018", [(1, "byte", 0x100UL), (2, "ushort", 0x1_0000UL), (4, "uint", ulong.MaxValue)],
            static (b, s, v) => AddRegister(b, new RegisterSpec(s.Register, v.Item1, v.Item2, 0, v.Item3, []))),
        Varied("enum type does not fit the field", "SHIO019", [(2, "Wide"), (1, "TwoBits"), (2, "string")],
            static (b, s, v) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("MODE", 0, v.Item1) with { EnumType = v.Item2 }]))),
        Varied("field access contradicts the register's", "SHIO020", [(2, 7), (2, 1), (3, 4), (3, 0)],
            static (b, s, v) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", v.Item1, 0, [Field("STATUS", 0, 1) with { Access = v.Item2 }]))),
        Varied("writable field in a read-only register", "SHIO021", [0, 2, 3, 4],
            static (b, s, access) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 1, 0, [Field("CFS", 0, 1) with { Access = access }]))),
        Varied("doorbell name not an identifier", "SHIO022", ["!!", "", " - "],
            static (b, s, name) => AddDoorbells(b, new DoorbellSpec("Doorbell", name, s.Doorbell, 4, 1, 0, null))),
        Single("field name not an identifier", "SHIO022", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("??", 0, 1)]))),
        Varied("undefined register access", "SHIO023", [9, -1, 4, int.MinValue],
            static (b, s, access) => AddRegister(b, new RegisterSpec(s.Register, 4, "uint", access, 0, []))),
        Varied("undefined field access", "SHIO023", [42, -1, 8],
            static (b, s, access) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("EN", 0, 1) with { Access = access }]))),
        Varied("undefined address space", "SHIO029", [7, -1, 2, int.MinValue],
            static (b, _, space) => (b with { AddressSpace = space }, SpecElement.BlockAttribute)),
        Single("[Field] without [Register]", "SHIO024", static (b, _) => (b with { StrayFields = [.. b.StrayFields, Field("EN", 0, 1)] }, SpecElement.StrayField(b.StrayFields.Length))),
    ];

    /// <summary>The slot of the flaw at <paramref name="index"/> in <see cref="All"/>.</summary>
    public static FlawSlot SlotOf(int index) => new(0x100 + (0x20 * (ulong)index), 0x2000 + (0x100 * (ulong)index));

    /// <summary>
    /// Injects <paramref name="flaws"/> (distinct indices into <see cref="All"/>, each with a
    /// variant, taken modulo the flaw's) into a well-formed block, made <see cref="BlockSize"/> large first.
    /// </summary>
    public static FlawedBlock Inject(BlockSpec wellFormed, IEnumerable<(int Index, int Variant)> flaws)
    {
        BlockSpec spec = wellFormed with { Size = BlockSize, ShadowSize = ShadowSize };
        var injected = new List<InjectedFlaw>();
        foreach ((int index, int variant) in flaws)
        {
            Flaw flaw = All[index];
            (spec, SpecElement at) = flaw.Inject(spec, SlotOf(index), variant % flaw.Variants);
            injected.Add(new InjectedFlaw(flaw, variant % flaw.Variants, at));
        }

        return new FlawedBlock(spec, [.. injected]);
    }

    private static Flaw Single(string name, string id, Func<BlockSpec, FlawSlot, (BlockSpec, SpecElement)> inject) =>
        new(name, id, 1, (b, s, _) => inject(b, s));

    /// <summary>A flaw with a version for each of <paramref name="variants"/>.</summary>
    private static Flaw Varied<T>(string name, string id, T[] variants, Func<BlockSpec, FlawSlot, T, (BlockSpec, SpecElement)> inject) =>
        new(name, id, variants.Length, (b, s, variant) => inject(b, s, variants[variant]));

    private static FieldSpec Field(string name, int bit, int width) => new(name, bit, width, 0, 0, null);

    /// <summary>Appends a register; the flaw is at its [Register].</summary>
    private static (BlockSpec, SpecElement) AddRegister(BlockSpec b, RegisterSpec register) =>
        (b with { Registers = [.. b.Registers, register] }, SpecElement.Register(b.Registers.Length));

    /// <summary>Appends registers; the flaw is at the last one's [Register] (overlaps are reported at the later declaration).</summary>
    private static (BlockSpec, SpecElement) AddRegisters(BlockSpec b, params RegisterSpec[] registers) =>
        (b with { Registers = [.. b.Registers, .. registers] }, SpecElement.Register(b.Registers.Length + registers.Length - 1));

    /// <summary>Appends a register whose last [Field] is the flaw.</summary>
    private static (BlockSpec, SpecElement) AddFields(BlockSpec b, RegisterSpec register) =>
        (b with { Registers = [.. b.Registers, register] }, SpecElement.Field(b.Registers.Length, register.Fields.Length - 1));

    /// <summary>Appends doorbells; the flaw is at the last one (collisions, overlaps and the shadow overrun are reported there).</summary>
    private static (BlockSpec, SpecElement) AddDoorbells(BlockSpec b, params DoorbellSpec[] doorbells) =>
        (b with { Doorbells = [.. b.Doorbells, .. doorbells] }, SpecElement.Doorbell(b.Doorbells.Length + doorbells.Length - 1));
}

/// <summary>A block with flaws injected, and the diagnostic each one must draw.</summary>
public sealed record FlawedBlock(BlockSpec Spec, InjectedFlaw[] Injected)
{
    public override string ToString() =>
        $"flaws: {string.Join("; ", Injected.Select(static f => f.ToString()))}{Environment.NewLine}{Spec.ToSource().Text}";
}
