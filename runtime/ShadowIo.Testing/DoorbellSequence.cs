using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Testing;

/// <summary>
/// Table-driven doorbell traffic for any generated block: a seeded write sequence, what the
/// emulator must observe for it in every <see cref="Binding.DoorbellBindingMode"/>, and the guest
/// code that performs it. Everything follows from the block's <see cref="DoorbellTable"/>, so a
/// test of a new block gets full doorbell coverage (every row, every width, datamatch hits and
/// misses) without restating its layout.
/// </summary>
/// <example>
/// <code>
/// var table = MyBlock.DoorbellTable;
/// var writes = DoorbellSequence.Create(table, seed: 1);
/// var a = new Assembler(64);
/// DoorbellSequence.EmitWrites(a, table, blockGpa, guestShadowGpa: null, writes);
/// TestGuest.EmitFinish(a);
/// // run it, then compare with DoorbellSequence.ExpectedSignals(table, writes) etc.
/// </code>
/// </example>
public static class DoorbellSequence
{
    /// <summary>
    /// Every row written <paramref name="writesPerRow"/> times, all rows interleaved in a seeded
    /// random order (so a binding cannot pass by handling rows one after another). Value rows get
    /// random values of their width; a datamatch doorbell alternates its datamatch value (which
    /// must only signal) with other values (which must reach the device's dispatch instead, or,
    /// on an address several datamatch doorbells share, may be another row's value and fire that one).
    /// </summary>
    public static DoorbellWrite[] Create(DoorbellTable table, int seed, int writesPerRow = 5)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentOutOfRangeException.ThrowIfNegative(writesPerRow);
        var random = new Random(seed);
        var writes = new List<DoorbellWrite>(table.Count * writesPerRow);
        for (int row = 0; row < table.Count; row++)
        {
            ref readonly var e = ref table[row];
            for (int k = 0; k < writesPerRow; k++)
            {
                ulong value = e.HasDataMatch
                    ? (k % 2 == 0 ? e.DataMatch : e.DataMatch + 1 + (ulong)k)
                    : (ulong)random.NextInt64() & Mask(e.Width);
                writes.Add(new DoorbellWrite(row, value));
            }
        }
        return [.. writes.OrderBy(_ => random.Next())];
    }

    /// <summary>The bits an access of <paramref name="width"/> bytes carries (KVM compares datamatch on these).</summary>
    public static ulong Mask(int width) => width >= 8 ? ulong.MaxValue : (1UL << (width * 8)) - 1;

    /// <summary>
    /// Signals each row must see: a write signals the row KVM would fire at its address, the one
    /// whose datamatch equals the written bytes (<see cref="DoorbellTable.TryFind(ulong, int, ulong, out int)"/>),
    /// which on an address several datamatch doorbells share may be another row than the one
    /// written to; a write no row there matches signals nothing.
    /// </summary>
    public static ulong[] ExpectedSignals(DoorbellTable table, IEnumerable<DoorbellWrite> writes)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(writes);
        var expected = new ulong[table.Count];
        foreach (var w in writes)
            if (Fired(table, w) is int row) expected[row]++;
        return expected;
    }

    /// <summary>The last value written to each value row, as a DoorbellReader must find it (0 for notify rows and unwritten rows).</summary>
    public static ulong[] ExpectedLastValues(DoorbellTable table, IEnumerable<DoorbellWrite> writes)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(writes);
        var last = new ulong[table.Count];
        foreach (var w in writes)
            if (table[w.Row].Kind == DoorbellKind.Value) last[w.Row] = w.Value;
        return last;
    }

    /// <summary>
    /// Writes that no datamatch at their address matches, in order: KVM does not match them, so
    /// they exit to userspace and reach the block's generated OnDoorbellWritten dispatch, which
    /// passes the first row declared at the address (the row written to, unless rows share it).
    /// </summary>
    public static (int Row, ulong Value)[] ExpectedDispatched(DoorbellTable table, IEnumerable<DoorbellWrite> writes)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(writes);
        return [.. writes.Where(w => Fired(table, w) is null).Select(w => (FirstAt(table, w.Row), w.Value))];
    }

    /// <summary>
    /// Emits guest code performing <paramref name="writes"/> on the block at <paramref name="blockGpa"/>,
    /// each a single store of the doorbell's own width (KVM matches an ioeventfd only on its exact
    /// length). With a <paramref name="guestShadowGpa"/>, each value row's value is stored into the
    /// guest's shadow page first, as an NVMe driver with Doorbell Buffer Config updates the shadow
    /// before ringing the MMIO doorbell. A port I/O block (<see cref="AddressSpace.Port"/>) is rung
    /// with <c>out dx</c> of AL, AX or EAX instead, <paramref name="blockGpa"/> being its first port
    /// (the guest needs IOPL 3 at CPL3, as <see cref="TestGuest"/> sets it). Clobbers RAX, RBX,
    /// RSI, and RDX for a port block.
    /// </summary>
    public static void EmitWrites(Assembler assembler, DoorbellTable table, ulong blockGpa, ulong? guestShadowGpa, IEnumerable<DoorbellWrite> writes)
    {
        ArgumentNullException.ThrowIfNull(assembler);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(writes);
        assembler.mov(rbx, blockGpa);
        if (guestShadowGpa is { } shadow) assembler.mov(rsi, shadow);
        foreach (var w in writes)
        {
            ref readonly var e = ref table[w.Row];
            assembler.mov(rax, w.Value);
            if (guestShadowGpa is not null && e.Kind == DoorbellKind.Value) Store(assembler, rsi, e.ShadowOffset, e.Width);
            if (table.AddressSpace == AddressSpace.Port) Out(assembler, checked((ushort)(blockGpa + e.Offset)), e.Width);
            else Store(assembler, rbx, (int)e.Offset, e.Width);
        }
    }

    /// <summary>
    /// Emits a store of the low <paramref name="width"/> bytes of RAX (AL, AX, EAX or RAX) to
    /// [<paramref name="base"/> + <paramref name="displacement"/>]: one guest access of exactly that size.
    /// </summary>
    public static void Store(Assembler assembler, AssemblerRegister64 @base, int displacement, int width)
    {
        ArgumentNullException.ThrowIfNull(assembler);
        switch (width)
        {
            case 1: assembler.mov(__byte_ptr[@base + displacement], al); break;
            case 2: assembler.mov(__word_ptr[@base + displacement], ax); break;
            case 4: assembler.mov(__dword_ptr[@base + displacement], eax); break;
            case 8: assembler.mov(__qword_ptr[@base + displacement], rax); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "A guest store is 1, 2, 4 or 8 bytes.");
        }
    }

    /// <summary>
    /// Emits <c>out dx, al</c>/<c>ax</c>/<c>eax</c> of the low <paramref name="width"/> bytes of RAX
    /// to <paramref name="port"/>: one port access of exactly that size. Clobbers RDX.
    /// </summary>
    public static void Out(Assembler assembler, ushort port, int width)
    {
        ArgumentNullException.ThrowIfNull(assembler);
        assembler.mov(edx, (uint)port);
        switch (width)
        {
            case 1: assembler.@out(dx, al); break;
            case 2: assembler.@out(dx, ax); break;
            case 4: assembler.@out(dx, eax); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, "Port output is 1, 2 or 4 bytes.");
        }
    }

    /// <summary>The row a write fires, as KVM picks it: exact width, the datamatch the bytes equal; null when none.</summary>
    private static int? Fired(DoorbellTable table, DoorbellWrite write)
    {
        ref readonly var e = ref table[write.Row];
        return table.TryFind(e.Offset, e.Width, write.Value & Mask(e.Width), out int row) ? row : null;
    }

    private static int FirstAt(DoorbellTable table, int row) => table.TryFind(table[row].Offset, out int first) ? first : row;
}
