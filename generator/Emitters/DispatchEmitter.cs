using System.Collections.Generic;
using System.Linq;
using ShadowIo.Generator.Checks;
using ShadowIo.Generator.Helpers;
using ShadowIo.Generator.Model;
using static ShadowIo.Generator.RegisterBlockGenerator.Emitter;

namespace ShadowIo.Generator.Emitters;

/// <summary>
/// Writes <c>ReadMmio</c>/<c>WriteMmio</c>: a switch over register ranges (the compiler turns the
/// relational patterns into a binary search), access rules and field modes applied per register,
/// accesses narrower than a register reading or merging just their bytes (Linux writes 64-bit
/// ASQ/ACQ as two 32-bit halves), doorbell offsets and undefined offsets routed to hooks. Every
/// register update is one <c>RegisterStorage.Update</c> of the runtime (an atomic read-modify-write),
/// every plain read one <c>RegisterStorage.Load</c>.
/// </summary>
internal static class DispatchEmitter
{
    public static void WriteDispatch(SourceWriter writer, BlockModel block)
    {
        WriteHooks(writer);
        WriteRead(writer, block);
        WriteWrite(writer, block);
    }

    /// <summary>The helpers the dispatch uses, as file-local classes of the generated file.</summary>
    public static void WriteAccessMath(SourceWriter writer, BlockModel block)
    {
        if (!block.RegisterSets.IsEmpty) WriteArrayMath(writer);
        writer.WriteLine();
        writer.WriteLine("/// <summary>Byte-lane arithmetic of MMIO accesses within one register.</summary>");
        writer.OpenBlock("file static class ByteLanes");
        writer.WriteLine("""
            /// <summary>Whether an access of <paramref name="size"/> bytes at <paramref name="relative"/> lies inside a register of <paramref name="width"/> bytes.</summary>
            public static bool Fits(ulong relative, int size, int width) => relative + (ulong)size <= (ulong)width;

            /// <summary>The register bits an access touches.</summary>
            public static ulong Touched(ulong relative, int size) => SizeMask(size) << (int)(relative * 8);

            /// <summary>The bytes an access reads, shifted down to bit 0.</summary>
            public static ulong Extract(ulong register, ulong relative, int size) => (register >> (int)(relative * 8)) & SizeMask(size);

            /// <summary>The written bytes moved to their position in the register.</summary>
            public static ulong Place(ulong value, ulong relative, int size) => (value & SizeMask(size)) << (int)(relative * 8);

            /// <summary>The low <paramref name="size"/> bytes of a written value.</summary>
            public static ulong Truncate(ulong value, int size) => value & SizeMask(size);

            /// <summary>Whether a guest access lies inside the block with a size KVM can deliver.</summary>
            public static bool IsInBlock(ulong offset, int size, ulong blockSize) =>
                size is 1 or 2 or 4 or 8 && offset < blockSize && (ulong)size <= blockSize - offset;

            private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
            """);
        writer.CloseBlock();
    }

    private static void WriteArrayMath(SourceWriter writer)
    {
        writer.WriteLine();
        writer.WriteLine("/// <summary>Element arithmetic of register arrays.</summary>");
        writer.OpenBlock("file static class RegisterArrays");
        writer.WriteLine("""
            /// <summary>
            /// Whether an access at <paramref name="offset"/> (at or after <paramref name="first"/>) lies wholly
            /// inside the register at <paramref name="inElement"/>, <paramref name="width"/> bytes, of one of the
            /// array's <paramref name="count"/> elements; then <paramref name="index"/> is that element and
            /// <paramref name="relative"/> the access's offset within the register.
            /// </summary>
            public static bool TryLocate(ulong offset, int size, ulong first, ulong stride, int count, ulong inElement, int width, out int index, out ulong relative)
            {
                // No step can overflow (a checked build must not throw): the case label puts offset at or
                // after first, and element × stride ≤ within.
                index = -1;
                relative = 0;
                ulong within = offset - first;
                ulong element = stride == 0 ? 0 : within / stride; // stride 0 only with a single element
                if (element >= (ulong)count) return false;
                ulong start = within - (element * stride);
                if (start < inElement) return false;
                index = (int)element;
                relative = start - inElement;
                return ByteLanes.Fits(relative, size, width);
            }

            /// <summary>A new storage array of <paramref name="count"/> registers, each holding <paramref name="reset"/>.</summary>
            public static T[] Filled<T>(int count, T reset)
            {
                var registers = new T[count];
                global::System.Array.Fill(registers, reset);
                return registers;
            }
            """);
        writer.CloseBlock();
    }

    private static void WriteHooks(SourceWriter writer)
    {
        writer.WriteLine();
        writer.WriteLine("""
            /// <summary>Called for a read outside every register and doorbell, or with a bad size; the read returns 0.</summary>
            partial void OnUndefinedRead(ulong offset, int size);

            /// <summary>Called for a write outside every register and doorbell, or with a bad size; the write is ignored.</summary>
            partial void OnUndefinedWrite(ulong offset, int size, ulong value);

            /// <summary>Called when a write to a doorbell reaches dispatch instead of a binding.</summary>
            partial void OnDoorbellWritten(int row, ulong value);
            """);
    }

    /// <summary>
    /// The head both entry points share: an access outside the block or of a size KVM never
    /// delivers goes to the undefined hook, then a switch over the register ranges.
    /// </summary>
    private static void WriteEntry(
        SourceWriter writer, BlockModel block, string what, string signature, string undefinedHook, string exit,
        System.Action<SourceWriter, RegisterSite> writeCase)
    {
        writer.WriteLine();
        writer.WriteLine($"/// <summary>{what}: access rules and field modes applied, each register update one atomic read-modify-write; never throws.</summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        writer.OpenBlock(signature);
        writer.OpenBlock("if (!ByteLanes.IsInBlock(offset, size, BlockSize))");
        writer.WriteLine(undefinedHook);
        writer.WriteLine(exit);
        writer.CloseBlock();
        writer.WriteLine();
        if (block.Registers.IsEmpty && block.RegisterSets.IsEmpty) return;
        writer.OpenBlock("switch (offset)");
        foreach (RegisterSite site in Sites(block)) writeCase(writer, site);
        writer.CloseBlock();
    }

    /// <summary>
    /// Where the dispatch finds one register: the case label matching an access wholly inside it,
    /// the access's offset within the register, its storage, the leading arguments of its hook
    /// (a register set's element index) and the class holding its field masks.
    /// </summary>
    private sealed record RegisterSite(RegisterModel Register, string Label, string Relative, string Storage, string HookArguments, string FieldsClass);

    /// <summary>The block's registers, then every register of every set (one case each, covering all elements).</summary>
    private static IEnumerable<RegisterSite> Sites(BlockModel block)
    {
        foreach (RegisterModel register in block.Registers)
        {
            string relative = $"offset - {register.Name}Offset";
            string width = Number(register.Width);
            yield return new RegisterSite(
                register,
                $"case >= {register.Name}Offset and < {register.Name}Offset + {width} when ByteLanes.Fits({relative}, size, {width}):",
                relative, Identifiers.ToStorageField(register.Name), "", register.Name + "Fields");
        }

        foreach (RegisterSetModel set in block.RegisterSets)
        {
            foreach (RegisterModel register in set.Registers)
            {
                // From element 0's register to the end of the last element's: TryLocate finds the
                // element and checks the access lies inside its register (not in the gap after it).
                string inElement = $"{set.TypeName}.{register.Name}Offset";
                string width = Number(register.Width);
                yield return new RegisterSite(
                    register,
                    $"case >= {set.Name}Offset + {inElement} and < {set.Name}Offset + (ulong)({set.Name}Count - 1) * {set.Name}Stride + {inElement} + {width}"
                    + $" when RegisterArrays.TryLocate(offset, size, {set.Name}Offset, {set.Name}Stride, {set.Name}Count, {inElement}, {width}, out int index, out ulong relative):",
                    "relative", Identifiers.ToStorageField(register.Name) + "[index]", "index, ", $"{set.TypeName}.{register.Name}Fields");
            }
        }
    }

    private static void WriteRead(SourceWriter writer, BlockModel block)
    {
        WriteEntry(writer, block, "A guest read", "public ulong ReadMmio(ulong offset, int size)", "OnUndefinedRead(offset, size);", "return 0;", WriteReadCase);

        if (!block.Doorbells.IsEmpty)
        {
            writer.WriteLine();
            writer.WriteLine("// Doorbells are write-only: reads return 0.");
            writer.WriteLine("if (DoorbellTable.TryFind(offset, out int row) && DoorbellTable[row].Width == size) return 0;");
        }

        writer.WriteLine();
        writer.WriteLine("OnUndefinedRead(offset, size);");
        writer.WriteLine("return 0;");
        writer.CloseBlock();
    }

    private static void WriteReadCase(SourceWriter writer, RegisterSite site)
    {
        RegisterModel register = site.Register;
        string type = Widths.TypeKeyword(register.Width);
        string storage = site.Storage;
        string relative = site.Relative;
        writer.WriteLine(site.Label);
        FieldMasks masks = FieldMasks.Of(register, site.FieldsClass);
        bool allReadable = masks.Readable == Widths.LowMask(register.Width * 8);
        string Readable(string value) => allReadable ? value : $"{value} & {masks.ReadableMask}";
        if (masks.Readable == 0)
        {
            writer.Indent();
            writer.WriteLine($"return 0; // {register.Name} is write-only");
            writer.Dedent();
            return;
        }

        if (masks.ReadToClear == 0)
        {
            writer.Indent();
            if (!allReadable) writer.WriteLine($"// Write-only bits read as 0: {masks.WriteOnlyNames}");
            writer.WriteLine($"return ByteLanes.Extract({Readable($"{Storage}.Load(ref {storage})")}, {relative}, size);");
            writer.Dedent();
            return;
        }

        writer.OpenBlock("");
        writer.WriteLine($"// Read-to-clear, in the same atomic update as the read: {masks.ReadToClearNames}");
        writer.WriteLine($"ulong cleared = ByteLanes.Touched({relative}, size) & {masks.ReadToClearMask};");
        writer.WriteLine($"{type} previous = {Storage}.Update(ref {storage}, {NarrowVariable(register, "cleared")}, 0, 0).Previous;");
        if (!allReadable) writer.WriteLine($"// Write-only bits read as 0: {masks.WriteOnlyNames}");
        writer.WriteLine($"return ByteLanes.Extract({Readable("previous")}, {relative}, size);");
        writer.CloseBlock();
    }

    /// <summary>A mask literal in ulong arithmetic, with as many digits as the register has.</summary>
    private static string Mask(ulong mask, RegisterModel register) => Hex(mask, register.Width).TrimEnd('U', 'L') + "UL";

    private static void WriteWrite(SourceWriter writer, BlockModel block)
    {
        WriteEntry(writer, block, "A guest write", "public void WriteMmio(ulong offset, int size, ulong value)", "OnUndefinedWrite(offset, size, value);", "return;", WriteWriteCase);

        if (!block.Doorbells.IsEmpty)
        {
            writer.WriteLine();
            if (block.Doorbells.Any(static d => d.HasDataMatch))
            {
                // Several datamatch doorbells may share an address: the row whose datamatch the
                // bytes equal, as KVM would pick it; for a value none matches, the address's first row.
                writer.WriteLine("ulong bytes = ByteLanes.Truncate(value, size);");
                writer.OpenBlock("if (DoorbellTable.TryFind(offset, size, bytes, out int row) || (DoorbellTable.TryFind(offset, out row) && DoorbellTable[row].Width == size))");
                writer.WriteLine("OnDoorbellWritten(row, bytes);");
            }
            else
            {
                writer.OpenBlock("if (DoorbellTable.TryFind(offset, out int row) && DoorbellTable[row].Width == size)");
                writer.WriteLine("OnDoorbellWritten(row, ByteLanes.Truncate(value, size));");
            }

            writer.WriteLine("return;");
            writer.CloseBlock();
        }

        writer.WriteLine();
        writer.WriteLine("OnUndefinedWrite(offset, size, value);");
        writer.CloseBlock();
    }

    /// <summary>
    /// A register's write case: the write becomes three masks computed from the written bytes alone
    /// (bits to clear, to set, to toggle; fields are disjoint, so their order does not matter), then
    /// one atomic update applies them to whatever the register holds at that moment.
    /// </summary>
    private static void WriteWriteCase(SourceWriter writer, RegisterSite site)
    {
        RegisterModel register = site.Register;
        string type = Widths.TypeKeyword(register.Width);
        string storage = site.Storage;
        string relative = site.Relative;
        FieldMasks masks = FieldMasks.Of(register, site.FieldsClass);

        writer.WriteLine(site.Label);
        writer.OpenBlock("");
        if (!masks.Changes)
        {
            writer.WriteLine($"// {register.Name} is read-only for the guest: the write is ignored.");
            writer.WriteLine($"{type} previous = {Storage}.Load(ref {storage});");
            writer.WriteLine($"On{register.Name}Written({site.HookArguments}previous, previous);");
            writer.WriteLine("return;");
            writer.CloseBlock();
            return;
        }

        writer.WriteLine($"ulong written = ByteLanes.Place(value, {relative}, size);");
        if ((masks.Replace | masks.WriteZeroToClear) != 0) writer.WriteLine($"ulong lanes = ByteLanes.Touched({relative}, size);");
        var terms = new UpdateTerms(writer, register);
        terms.Group(masks.Replace, masks.ReplaceMask, masks.ReplaceNames, "Written as given", ("clear", "lanes"), ("set", "written"));
        terms.Group(masks.Set, masks.SetMask, masks.SetNames, "Write 1 to set", ("set", "written"));
        terms.Group(masks.Toggle, masks.ToggleMask, masks.ToggleNames, "Write 1 to toggle", ("toggle", "written"));
        terms.Group(masks.WriteOneToClear, masks.WriteOneToClearMask, masks.WriteOneToClearNames, "Write 1 to clear", ("clear", "written"));
        terms.Group(masks.WriteZeroToClear, masks.WriteZeroToClearMask, masks.WriteZeroToClearNames, "Write 0 to clear", ("clear", "lanes & ~written"));
        writer.WriteLine($"({type} previous, {type} next) = {Storage}.Update(ref {storage}, {terms.Argument("clear")}, {terms.Argument("set")}, {terms.Argument("toggle")});");
        writer.WriteLine($"On{register.Name}Written({site.HookArguments}previous, next);");
        writer.WriteLine("return;");
        writer.CloseBlock();
    }

    /// <summary>The clear/set/toggle masks of a write case, declared by their first term.</summary>
    private sealed class UpdateTerms(SourceWriter writer, RegisterModel register)
    {
        private readonly HashSet<string> _declared = [];

        /// <summary>One field-mode group: a comment naming its fields, then each (variable, source bits) term under the group's mask.</summary>
        public void Group(ulong mask, string expression, string names, string label, params (string Variable, string Bits)[] terms)
        {
            if (mask == 0) return;
            writer.WriteLine($"// {label}: {names}");
            bool all = mask == Widths.LowMask(register.Width * 8);
            foreach ((string variable, string bits) in terms)
            {
                string term = all ? bits : $"{bits} & {expression}";
                writer.WriteLine(_declared.Add(variable) ? $"ulong {variable} = {term};" : $"{variable} |= {term};");
            }
        }

        /// <summary>A mask as <c>RegisterStorage.Update</c>'s argument: narrowed to the register's type, or 0 if no group uses it.</summary>
        public string Argument(string variable) => _declared.Contains(variable) ? NarrowVariable(register, variable) : "0";
    }

    /// <summary>Casts a ulong local to the register's type.</summary>
    private static string NarrowVariable(RegisterModel register, string variable) =>
        register.Width == 8 ? variable : $"({Widths.TypeKeyword(register.Width)}){variable}";

    /// <summary>
    /// The contract of <c>On{Register}Written</c> in its doc comment: what a guest write means for
    /// the register, read-only ones included (the hook still runs, so a device can see the attempt).
    /// </summary>
    public static string WrittenHookSummary(RegisterModel register)
    {
        FieldMasks masks = FieldMasks.Of(register, register.Name + "Fields");
        if (!masks.Changes)
        {
            return $"After each guest write that reaches {register.Name}, which is read-only for the guest: the write stores nothing, so value == previous (what the register holds); the bytes the guest wrote are not passed.";
        }

        if (register.Access == RegisterAccess.ReadOnly)
        {
            return $"After each guest write that reaches {register.Name}, which is read-only for the guest except {masks.WritableNames}: the write's atomic update changes only those bits, previous is the value it replaced and value the one it stored (equal when it changed nothing); the bytes the guest wrote are not passed.";
        }

        return $"After each guest write that reaches {register.Name}: the value its atomic update replaced and the value it stored.";
    }

    /// <summary>A register's bits grouped by what a guest access does to them.</summary>
    private sealed class FieldMasks
    {
        public ulong Readable { get; private set; }
        public ulong ReadToClear { get; private set; }
        public ulong Replace { get; private set; }
        public ulong Set { get; private set; }
        public ulong Toggle { get; private set; }
        public ulong WriteOneToClear { get; private set; }
        public ulong WriteZeroToClear { get; private set; }
        public string ReadToClearNames => Join(FieldAccess.ReadToClear);
        public string WriteOnlyNames => Join(FieldAccess.WriteOnly);

        /// <summary>The fields a guest write can change, by their declared names.</summary>
        public string WritableNames => string.Join(", ", _groups
            .Where(static g => g.Mode is not (FieldAccess.ReadOnly or FieldAccess.ReadToClear))
            .Select(static g => Comment(g.Name)));
        public string ReplaceNames => Join(FieldAccess.ReadWrite, FieldAccess.WriteOnly);
        public string SetNames => Join(FieldAccess.Set);
        public string ToggleNames => Join(FieldAccess.Toggle);
        public string WriteOneToClearNames => Join(FieldAccess.WriteOneToClear);
        public string WriteZeroToClearNames => Join(FieldAccess.WriteZeroToClear);
        public bool Changes => (Replace | Set | Toggle | WriteOneToClear | WriteZeroToClear) != 0;

        /// <summary>Each group as a C# mask: its fields' named masks, or a literal where undeclared bits take part.</summary>
        public string ReadToClearMask => Expression(ReadToClear, FieldAccess.ReadToClear);
        public string ReplaceMask => Expression(Replace, FieldAccess.ReadWrite, FieldAccess.WriteOnly);
        public string SetMask => Expression(Set, FieldAccess.Set);
        public string ToggleMask => Expression(Toggle, FieldAccess.Toggle);
        public string WriteOneToClearMask => Expression(WriteOneToClear, FieldAccess.WriteOneToClear);
        public string WriteZeroToClearMask => Expression(WriteZeroToClear, FieldAccess.WriteZeroToClear);

        /// <summary>(declared name, mode, field identifier or null for bits outside every field).</summary>
        private readonly List<(string Name, FieldAccess Mode, string? Field)> _groups = [];
        private readonly RegisterModel _register;
        private readonly string _fieldsClass;

        private FieldMasks(RegisterModel register, string fieldsClass)
        {
            _register = register;
            _fieldsClass = fieldsClass;
        }

        /// <summary>The groups of <paramref name="register"/>, whose mask constants live in <paramref name="fieldsClass"/>.</summary>
        public static FieldMasks Of(RegisterModel register, string fieldsClass)
        {
            var masks = new FieldMasks(register, fieldsClass);
            ulong all = Widths.LowMask(register.Width * 8);
            ulong declared = 0;
            foreach (FieldModel field in register.Fields)
            {
                ulong bits = Widths.LowMask(field.Width) << field.Bit;
                declared |= bits;
                masks.Add(field.DeclaredName, field.Access, bits, field.Name);
            }

            // Bits outside every field follow the register's own access.
            ulong rest = all & ~declared;
            if (rest != 0)
            {
                FieldAccess mode = register.Access switch
                {
                    RegisterAccess.ReadOnly => FieldAccess.ReadOnly,
                    RegisterAccess.WriteOnly => FieldAccess.WriteOnly,
                    RegisterAccess.WriteOneToClear => FieldAccess.WriteOneToClear,
                    _ => FieldAccess.ReadWrite,
                };
                masks.Add(register.Fields.IsEmpty ? register.Name : "undeclared bits", mode, rest, field: null);
            }

            if (register.Access == RegisterAccess.WriteOnly) masks.Readable = 0;
            return masks;
        }

        private void Add(string name, FieldAccess mode, ulong bits, string? field)
        {
            _groups.Add((name, mode, field));
            if (mode != FieldAccess.WriteOnly) Readable |= bits;
            switch (mode)
            {
                case FieldAccess.ReadWrite:
                case FieldAccess.WriteOnly: Replace |= bits; break;
                case FieldAccess.Set: Set |= bits; break;
                case FieldAccess.Toggle: Toggle |= bits; break;
                case FieldAccess.WriteOneToClear: WriteOneToClear |= bits; break;
                case FieldAccess.WriteZeroToClear: WriteZeroToClear |= bits; break;
                case FieldAccess.ReadToClear: ReadToClear |= bits; break;
            }
        }

        private string Join(FieldAccess mode, FieldAccess? other = null) =>
            string.Join(", ", _groups.Where(g => g.Mode == mode || g.Mode == other).Select(static g => Comment(g.Name)));

        /// <summary>The bits a guest read returns, as a C# mask: everything but the write-only fields.</summary>
        public string ReadableMask => Complement(static g => g.Mode == FieldAccess.WriteOnly) ?? Mask(Readable, _register);

        /// <summary>
        /// A group's mask by the names <see cref="FieldEmitter"/> emits: the union of its fields'
        /// masks, or, when bits outside every field take part, the complement of the other fields'
        /// (in ulong arithmetic, where every mask expression of the dispatch is used).
        /// </summary>
        private string Expression(ulong mask, FieldAccess mode, FieldAccess? other = null)
        {
            bool InGroup((string Name, FieldAccess Mode, string? Field) g) => g.Mode == mode || g.Mode == other;
            var groups = _groups.Where(InGroup).ToList();
            if (groups.All(static g => g.Field is not null)) return Union(groups);
            return Complement(g => !InGroup(g)) ?? Mask(mask, _register);
        }

        /// <summary>
        /// <c>~(ulong)(A | B …)</c> over the fields <paramref name="excluded"/> picks; null when none
        /// does or bits outside every field are among them (no name covers those).
        /// </summary>
        private string? Complement(System.Func<(string Name, FieldAccess Mode, string? Field), bool> excluded)
        {
            var groups = _groups.Where(excluded).ToList();
            if (groups.Count == 0 || groups.Any(static g => g.Field is null)) return null;
            return "~(ulong)" + Union(groups);
        }

        private string Union(List<(string Name, FieldAccess Mode, string? Field)> groups)
        {
            string[] names = [.. groups.Select(g => $"{_fieldsClass}.{g.Field}Mask")];
            return names.Length == 1 ? names[0] : "(" + string.Join(" | ", names) + ")";
        }
    }
}
