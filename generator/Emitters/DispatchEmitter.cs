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
/// ASQ/ACQ as two 32-bit halves), doorbell offsets and undefined offsets routed to hooks.
/// </summary>
internal static class DispatchEmitter
{
    public static void WriteDispatch(SourceWriter writer, BlockModel block)
    {
        WriteHooks(writer);
        WriteRead(writer, block);
        WriteWrite(writer, block);
    }

    /// <summary>The helpers the dispatch uses, as a file-local class of the generated file.</summary>
    public static void WriteAccessMath(SourceWriter writer)
    {
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

            /// <summary>The register with the accessed bytes replaced by the written ones.</summary>
            public static ulong Merge(ulong register, ulong relative, int size, ulong value) =>
                (register & ~Touched(relative, size)) | Place(value, relative, size);

            /// <summary>The low <paramref name="size"/> bytes of a written value.</summary>
            public static ulong Truncate(ulong value, int size) => value & SizeMask(size);

            /// <summary>Whether a guest access lies inside the block with a size KVM can deliver.</summary>
            public static bool IsInBlock(ulong offset, int size, ulong blockSize) =>
                size is 1 or 2 or 4 or 8 && offset < blockSize && (ulong)size <= blockSize - offset;

            private static ulong SizeMask(int size) => size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
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
        System.Action<SourceWriter, RegisterModel> writeCase)
    {
        writer.WriteLine();
        writer.WriteLine($"/// <summary>{what}: access rules and field modes applied; never throws.</summary>");
        writer.WriteLine(GeneratedCodeAttribute);
        writer.OpenBlock(signature);
        writer.OpenBlock("if (!ByteLanes.IsInBlock(offset, size, BlockSize))");
        writer.WriteLine(undefinedHook);
        writer.WriteLine(exit);
        writer.CloseBlock();
        writer.WriteLine();
        if (block.Registers.IsEmpty) return;
        writer.OpenBlock("switch (offset)");
        foreach (RegisterModel register in block.Registers) writeCase(writer, register);
        writer.CloseBlock();
    }

    /// <summary>The case of a register: an access that lies wholly inside it.</summary>
    private static void WriteCaseLabel(SourceWriter writer, RegisterModel register, string relative) =>
        writer.WriteLine($"case >= {register.Name}Offset and < {register.Name}Offset + {Number(register.Width)} when ByteLanes.Fits({relative}, size, {Number(register.Width)}):");

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

    private static void WriteReadCase(SourceWriter writer, RegisterModel register)
    {
        string storage = Identifiers.ToStorageField(register.Name);
        string relative = $"offset - {register.Name}Offset";
        WriteCaseLabel(writer, register, relative);
        FieldMasks masks = FieldMasks.Of(register);
        string readable = masks.Readable == Widths.LowMask(register.Width * 8) ? storage : $"{storage} & {Mask(masks.Readable, register)}";
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
            if (readable != storage) writer.WriteLine($"// Write-only bits read as 0: {masks.WriteOnlyNames}");
            writer.WriteLine($"return ByteLanes.Extract({readable}, {relative}, size);");
            writer.Dedent();
            return;
        }

        writer.OpenBlock("");
        if (readable != storage) writer.WriteLine($"// Write-only bits read as 0: {masks.WriteOnlyNames}");
        writer.WriteLine($"ulong value = ByteLanes.Extract({readable}, {relative}, size);");
        writer.WriteLine($"// Read-to-clear, after the read: {masks.ReadToClearNames}");
        writer.WriteLine($"{storage} = {Narrow(register, $"{storage} & ~(ByteLanes.Touched({relative}, size) & {Mask(masks.ReadToClear, register)})")};");
        writer.WriteLine("return value;");
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
            writer.OpenBlock("if (DoorbellTable.TryFind(offset, out int row) && DoorbellTable[row].Width == size)");
            writer.WriteLine("OnDoorbellWritten(row, ByteLanes.Truncate(value, size));");
            writer.WriteLine("return;");
            writer.CloseBlock();
        }

        writer.WriteLine();
        writer.WriteLine("OnUndefinedWrite(offset, size, value);");
        writer.CloseBlock();
    }

    private static void WriteWriteCase(SourceWriter writer, RegisterModel register)
    {
        string type = Widths.TypeKeyword(register.Width);
        string storage = Identifiers.ToStorageField(register.Name);
        string relative = $"offset - {register.Name}Offset";
        FieldMasks masks = FieldMasks.Of(register);
        ulong all = Widths.LowMask(register.Width * 8);

        WriteCaseLabel(writer, register, relative);
        writer.OpenBlock("");
        writer.WriteLine($"{type} previous = {storage};");
        if (masks.Replace == all)
        {
            writer.WriteLine($"{storage} = {Narrow(register, $"ByteLanes.Merge(previous, {relative}, size, value)")};");
        }
        else if (masks.WriteOneToClear == all)
        {
            writer.WriteLine("// Write-1-to-clear: each bit written as 1 is cleared.");
            writer.WriteLine($"{storage} = {Narrow(register, $"previous & ~ByteLanes.Place(value, {relative}, size)")};");
        }
        else if (masks.Changes)
        {
            writer.WriteLine($"ulong written = ByteLanes.Place(value, {relative}, size);");
            if ((masks.Replace | masks.WriteZeroToClear) != 0) writer.WriteLine($"ulong lanes = ByteLanes.Touched({relative}, size);");
            writer.WriteLine("ulong next = previous;");
            Group(writer, register, masks.Replace, masks.ReplaceNames, "Written as given", "next = (next & ~(lanes & {0})) | (written & {0});");
            Group(writer, register, masks.Set, masks.SetNames, "Write 1 to set", "next |= written & {0};");
            Group(writer, register, masks.Toggle, masks.ToggleNames, "Write 1 to toggle", "next ^= written & {0};");
            Group(writer, register, masks.WriteOneToClear, masks.WriteOneToClearNames, "Write 1 to clear", "next &= ~(written & {0});");
            Group(writer, register, masks.WriteZeroToClear, masks.WriteZeroToClearNames, "Write 0 to clear", "next &= ~(lanes & ~written & {0});");
            writer.WriteLine(register.Width == 8 ? $"{storage} = next;" : $"{storage} = ({type})next;");
        }
        else
        {
            writer.WriteLine($"// {register.Name} is read-only for the guest: the write is ignored.");
        }

        writer.WriteLine($"On{register.Name}Written(previous, {storage});");
        writer.WriteLine("return;");
        writer.CloseBlock();
    }

    private static void Group(SourceWriter writer, RegisterModel register, ulong mask, string names, string label, string template)
    {
        if (mask == 0) return;
        writer.WriteLine($"// {label}: {names}");
        writer.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, Mask(mask, register)));
    }

    /// <summary>Casts an expression computed in ulong back to the register's type.</summary>
    private static string Narrow(RegisterModel register, string expression) =>
        register.Width == 8 ? expression : $"({Widths.TypeKeyword(register.Width)})({expression})";

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
        public string ReplaceNames => Join(FieldAccess.ReadWrite, FieldAccess.WriteOnly);
        public string SetNames => Join(FieldAccess.Set);
        public string ToggleNames => Join(FieldAccess.Toggle);
        public string WriteOneToClearNames => Join(FieldAccess.WriteOneToClear);
        public string WriteZeroToClearNames => Join(FieldAccess.WriteZeroToClear);
        public bool Changes => (Replace | Set | Toggle | WriteOneToClear | WriteZeroToClear) != 0;

        private readonly List<(string Name, FieldAccess Mode)> _groups = [];

        public static FieldMasks Of(RegisterModel register)
        {
            var masks = new FieldMasks();
            ulong all = Widths.LowMask(register.Width * 8);
            ulong declared = 0;
            foreach (FieldModel field in register.Fields)
            {
                ulong bits = Widths.LowMask(field.Width) << field.Bit;
                declared |= bits;
                masks.Add(field.DeclaredName, field.Access, bits);
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
                masks.Add(register.Fields.IsEmpty ? register.Name : "undeclared bits", mode, rest);
            }

            if (register.Access == RegisterAccess.WriteOnly) masks.Readable = 0;
            return masks;
        }

        private void Add(string name, FieldAccess mode, ulong bits)
        {
            _groups.Add((name, mode));
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
    }
}
