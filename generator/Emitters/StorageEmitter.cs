using System.Collections.Generic;
using System.Linq;
using ShadowIo.Generator.Checks;
using ShadowIo.Generator.Helpers;
using ShadowIo.Generator.Model;

namespace ShadowIo.Generator.Emitters;

/// <summary>
/// Writes <c>RegisterStorage</c>, the only code that touches a block's register storage fields:
/// a volatile load per read, a volatile store per whole-value set, and one compare-exchange loop
/// per update, so that guest dispatch on a vCPU thread and the device's field setters on its own
/// thread never lose each other's updates (the concurrency contract in generated-api.md).
/// </summary>
/// <remarks>
/// A compare-exchange loop rather than a lock: guest MMIO never waits behind the device's work,
/// and no generated lock is held while a hook runs, so a hook may take the device's own lock
/// while the device thread, holding that lock, sets fields (no lock-ordering cycle). byte and
/// ushort registers use <c>Interlocked.CompareExchange</c>'s .NET 9 overloads; the runtime the
/// generated code implements (<c>IRegisterBlock</c>) targets .NET 10.
/// </remarks>
internal static class StorageEmitter
{
    private const string Volatile = "global::System.Threading.Volatile";
    private const string Interlocked = "global::System.Threading.Interlocked";

    public static void WriteStorage(SourceWriter writer, BlockModel block) => WriteStorage(writer, block.Registers.Select(static r => r.Width));

    /// <summary>RegisterStorage for registers of the given widths in bytes (each width once, narrowest first).</summary>
    public static void WriteStorage(SourceWriter writer, IEnumerable<int> registerWidths)
    {
        int[] widths = [.. registerWidths.Distinct().OrderBy(static w => w)];
        if (widths.Length == 0) return;

        writer.WriteLine();
        writer.WriteLine("""
            /// <summary>
            /// Every access to the block's register storage: a read is one volatile load (never torn), a
            /// whole-value set one volatile store (last writer wins), and every other change one atomic
            /// read-modify-write, so no update of a register is lost to a concurrent one.
            /// </summary>
            """);
        writer.OpenBlock("file static class RegisterStorage");
        bool first = true;
        foreach (int width in widths)
        {
            if (!first) writer.WriteLine();
            first = false;
            WriteWidth(writer, Widths.TypeKeyword(width), narrow: width < 4);
        }

        writer.CloseBlock();
    }

    private static void WriteWidth(SourceWriter writer, string t, bool narrow)
    {
        // byte and ushort arithmetic widens to int.
        string Narrow(string expression) => narrow ? $"({t})({expression})" : expression;

        writer.WriteLine($$"""
            /// <summary>The stored value: one volatile load.</summary>
            public static {{t}} Load(ref {{t}} storage) => {{Volatile}}.Read(ref storage);

            /// <summary>Stores a whole value (a device set, a reset): last writer wins over a concurrent update.</summary>
            public static void Store(ref {{t}} storage, {{t}} value) => {{Volatile}}.Write(ref storage, value);

            /// <summary>The bits under <paramref name="mask"/> become those of <paramref name="bits"/>, the others stay: one atomic update.</summary>
            public static void Replace(ref {{t}} storage, {{t}} mask, {{t}} bits) => Update(ref storage, mask, {{Narrow("bits & mask")}}, 0);

            /// <summary>
            /// Stores <c>((previous &amp; ~clear) | set) ^ toggle</c> as one atomic update and returns the value
            /// it replaced and the value it stored. Loops only while another update of the same register
            /// lands between the load and the compare-exchange; an update that changes nothing stores nothing.
            /// </summary>
            public static ({{t}} Previous, {{t}} Next) Update(ref {{t}} storage, {{t}} clear, {{t}} set, {{t}} toggle)
            {
                {{t}} previous = {{Volatile}}.Read(ref storage);
                while (true)
                {
                    {{t}} next = {{Narrow("((previous & ~clear) | set) ^ toggle")}};
                    if (next == previous) return (previous, next);
                    {{t}} seen = {{Interlocked}}.CompareExchange(ref storage, next, previous);
                    if (seen == previous) return (previous, next);
                    previous = seen;
                }
            }
            """);
    }
}
