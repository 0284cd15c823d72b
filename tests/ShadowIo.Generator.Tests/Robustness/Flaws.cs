namespace ShadowIo.Generator.Tests.Robustness;

/// <summary>A flaw injected into a block, with the diagnostic it must draw.</summary>
public sealed record InjectedFlaw(Flaw Flaw, SpecElement At)
{
    public override string ToString() => $"'{Flaw.Name}' → {Flaw.Id} at {At}";
}

/// <summary>
/// One kind of mistake, injected into a well-formed block by appending declarations of its own
/// (or, for the class itself, by changing it), and the one rule it must be reported under.
/// </summary>
/// <param name="Inject">Adds the flaw to a block; returns the block and the attribute the diagnostic belongs at.</param>
public sealed record Flaw(string Name, string Id, Func<BlockSpec, FlawSlot, (BlockSpec Spec, SpecElement At)> Inject)
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

    public static IReadOnlyList<Flaw> All { get; } =
    [
        // Partial register properties in a class that is not partial are also CS0751.
        new("class not partial", "SHIO001", static (b, _) => (b with { Partial = false }, SpecElement.BlockAttribute)) { CompilerErrors = ["CS0751"] },
        new("register property not partial", "SHIO002", static (b, s) => AddRegister(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [], Partial: false))),
        new("register width 3", "SHIO003", static (b, s) => AddRegister(b, new RegisterSpec(s.Register, 3, "uint", 0, 0, []))),
        new("doorbell width 3", "SHIO003", static (b, s) => AddDoorbells(b, new DoorbellSpec("Doorbell", "odd width", s.Doorbell, 3, 1, 0, null))),
        new("register offset not aligned", "SHIO004", static (b, s) => AddRegister(b, new RegisterSpec(s.Register + 2, 4, "uint", 0, 0, []))),
        new("doorbell array stride not aligned", "SHIO004", static (b, s) => AddDoorbells(b, new DoorbellSpec("DoorbellArray", "odd stride", s.Doorbell, 4, 2, 6, null))),
        new("register beyond the block", "SHIO005", static (b, _) => AddRegister(b, new RegisterSpec(ulong.MaxValue - 3, 4, "uint", 0, 0, []))),
        new("notify doorbell beyond the block", "SHIO005", static (b, _) => AddDoorbells(b, new DoorbellSpec("NotifyDoorbell", "past end", b.Size, 4, 1, 0, null))),
        new("registers overlap", "SHIO006", static (b, s) => AddRegisters(b,
            new RegisterSpec(s.Register, 8, "ulong", 0, 0, []),
            new RegisterSpec(s.Register + 4, 4, "uint", 0, 0, []))),
        new("doorbells overlap", "SHIO006", static (b, s) => AddDoorbells(b,
            new DoorbellSpec("Doorbell", "overlap a", s.Doorbell, 4, 1, 0, null),
            new DoorbellSpec("NotifyDoorbell", "overlap b", s.Doorbell, 4, 1, 0, null))),
        new("array stride below its width", "SHIO007", static (b, s) => AddDoorbells(b, new DoorbellSpec("DoorbellArray", "tight", s.Doorbell, 4, 2, 2, null))),
        new("array count 0", "SHIO008", static (b, s) => AddDoorbells(b, new DoorbellSpec("DoorbellArray", "empty", s.Doorbell, 4, 0, 4, null))),
        new("array arithmetic overflows", "SHIO009", static (b, s) => AddDoorbells(b, new DoorbellSpec("DoorbellArray", "overflow", s.Doorbell, 4, 3, 1UL << 63, null))),
        new("datamatch wider than its doorbell", "SHIO010", static (b, s) => AddDoorbells(b, new DoorbellSpec("NotifyDoorbell", "match", s.Doorbell, 1, 1, 0, 0x100))),
        new("more than 1000 doorbells", "SHIO011", static (b, _) => AddDoorbells(b, new DoorbellSpec("DoorbellArray", "many", ManyDoorbellsOffset, 1, 1001, 1, null))),
        new("shadow layout beyond ShadowSize", "SHIO012", static (b, s) => AddDoorbells(b,
            new DoorbellSpec("Doorbell", "near", s.Doorbell, 4, 1, 0, null),
            new DoorbellSpec("Doorbell", "far", FarDoorbellOffset, 4, 1, 0, null))),
        new("property type wider than the register", "SHIO013", static (b, s) => AddRegister(b, new RegisterSpec(s.Register, 4, "ulong", 0, 0, []))),
        new("doorbell names collide", "SHIO014", static (b, s) => AddDoorbells(b,
            new DoorbellSpec("Doorbell", "dup", s.Doorbell, 4, 1, 0, null),
            new DoorbellSpec("Doorbell", "DUP", s.Doorbell + 4, 4, 1, 0, null))),
        new("field names collide", "SHIO014", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("EN", 0, 1), Field("en", 1, 1)]))),
        new("fields overlap", "SHIO015", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("A", 0, 4), Field("B", 2, 4)]))),
        new("field past the register", "SHIO016", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("HIGH", 30, 4)]))),
        new("field of zero width", "SHIO017", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("Z", 0, 0)]))),
        new("field reset wider than the field", "SHIO018", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("SHN", 0, 2) with { Reset = 4 }]))),
        new("register reset wider than the register", "SHIO018", static (b, s) => AddRegister(b, new RegisterSpec(s.Register, 1, "byte", 0, 0x100, []))),
        new("enum member wider than the field", "SHIO019", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("MODE", 0, 2) with { EnumType = "Wide" }]))),
        new("field access contradicts the register's", "SHIO020", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 2, 0, [Field("STATUS", 0, 1) with { Access = 7 }]))),
        new("writable field in a read-only register", "SHIO021", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 1, 0, [Field("CFS", 0, 1)]))),
        new("doorbell name not an identifier", "SHIO022", static (b, s) => AddDoorbells(b, new DoorbellSpec("Doorbell", "!!", s.Doorbell, 4, 1, 0, null))),
        new("undefined register access", "SHIO023", static (b, s) => AddRegister(b, new RegisterSpec(s.Register, 4, "uint", 9, 0, []))),
        new("undefined field access", "SHIO023", static (b, s) => AddFields(b, new RegisterSpec(s.Register, 4, "uint", 0, 0, [Field("EN", 0, 1) with { Access = 42 }]))),
        new("[Field] without [Register]", "SHIO024", static (b, _) => (b with { StrayFields = [.. b.StrayFields, Field("EN", 0, 1)] }, SpecElement.StrayField(b.StrayFields.Length))),
    ];

    /// <summary>The slot of the flaw at <paramref name="index"/> in <see cref="All"/>.</summary>
    public static FlawSlot SlotOf(int index) => new(0x100 + (0x20 * (ulong)index), 0x2000 + (0x100 * (ulong)index));

    /// <summary>
    /// Injects the flaws at <paramref name="indices"/> (distinct indices into <see cref="All"/>)
    /// into a well-formed block, made as large as <see cref="BlockSize"/> first.
    /// </summary>
    public static FlawedBlock Inject(BlockSpec wellFormed, IEnumerable<int> indices)
    {
        BlockSpec spec = wellFormed with { Size = BlockSize, ShadowSize = ShadowSize };
        var injected = new List<InjectedFlaw>();
        foreach (int index in indices)
        {
            (spec, SpecElement at) = All[index].Inject(spec, SlotOf(index));
            injected.Add(new InjectedFlaw(All[index], at));
        }

        return new FlawedBlock(spec, [.. injected]);
    }

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
