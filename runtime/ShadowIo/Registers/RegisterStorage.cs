using System.ComponentModel;

namespace ShadowIo;

/// <summary>
/// Every access generated register blocks make to their register storage, for generated code:
/// a read is one volatile load (never torn), a whole-value set one volatile store (last writer
/// wins), and every other change one atomic read-modify-write, so that guest dispatch on a vCPU
/// thread and the device's field setters on its own thread never lose each other's updates (the
/// concurrency contract in generator/docs/generated-api.md, "Threads").
/// </summary>
/// <remarks>
/// A compare-exchange loop rather than a lock: guest MMIO never waits behind the device's work,
/// and no lock is held while a hook runs, so a hook may take the device's own lock while the
/// device thread, holding that lock, sets fields (no lock-ordering cycle). One copy here instead
/// of one in every generated file; small enough for the JIT to inline into the generated code.
/// byte and ushort use <c>Interlocked.CompareExchange</c>'s .NET 9 overloads.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class RegisterStorage
{
    /// <summary>The stored value: one volatile load.</summary>
    /// <param name="storage">The register's storage field.</param>
    public static byte Load(ref byte storage) => Volatile.Read(ref storage);

    /// <summary>Stores a whole value (a device set, a reset): last writer wins over a concurrent update.</summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="value">The new value.</param>
    public static void Store(ref byte storage, byte value) => Volatile.Write(ref storage, value);

    /// <summary>The bits under <paramref name="mask"/> become those of <paramref name="bits"/>, the others stay: one atomic update.</summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="mask">The bits to replace.</param>
    /// <param name="bits">Their new values (bits outside <paramref name="mask"/> are ignored).</param>
    public static void Replace(ref byte storage, byte mask, byte bits) => Update(ref storage, mask, (byte)(bits & mask), 0);

    /// <summary>
    /// Stores <c>((previous &amp; ~clear) | set) ^ toggle</c> as one atomic update and returns the value
    /// it replaced and the value it stored. Loops only while another update of the same register
    /// lands between the load and the compare-exchange; an update that changes nothing stores nothing.
    /// </summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="clear">Bits to clear.</param>
    /// <param name="set">Bits to set, after clearing.</param>
    /// <param name="toggle">Bits to flip, last.</param>
    /// <returns>The value replaced and the value stored.</returns>
    public static (byte Previous, byte Next) Update(ref byte storage, byte clear, byte set, byte toggle)
    {
        byte previous = Volatile.Read(ref storage);
        while (true)
        {
            byte next = (byte)(((previous & ~clear) | set) ^ toggle);
            if (next == previous) return (previous, next);
            byte seen = Interlocked.CompareExchange(ref storage, next, previous);
            if (seen == previous) return (previous, next);
            previous = seen;
        }
    }

    /// <summary>The stored value: one volatile load.</summary>
    /// <param name="storage">The register's storage field.</param>
    public static ushort Load(ref ushort storage) => Volatile.Read(ref storage);

    /// <summary>Stores a whole value (a device set, a reset): last writer wins over a concurrent update.</summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="value">The new value.</param>
    public static void Store(ref ushort storage, ushort value) => Volatile.Write(ref storage, value);

    /// <summary>The bits under <paramref name="mask"/> become those of <paramref name="bits"/>, the others stay: one atomic update.</summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="mask">The bits to replace.</param>
    /// <param name="bits">Their new values (bits outside <paramref name="mask"/> are ignored).</param>
    public static void Replace(ref ushort storage, ushort mask, ushort bits) => Update(ref storage, mask, (ushort)(bits & mask), 0);

    /// <summary>
    /// Stores <c>((previous &amp; ~clear) | set) ^ toggle</c> as one atomic update and returns the value
    /// it replaced and the value it stored. Loops only while another update of the same register
    /// lands between the load and the compare-exchange; an update that changes nothing stores nothing.
    /// </summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="clear">Bits to clear.</param>
    /// <param name="set">Bits to set, after clearing.</param>
    /// <param name="toggle">Bits to flip, last.</param>
    /// <returns>The value replaced and the value stored.</returns>
    public static (ushort Previous, ushort Next) Update(ref ushort storage, ushort clear, ushort set, ushort toggle)
    {
        ushort previous = Volatile.Read(ref storage);
        while (true)
        {
            ushort next = (ushort)(((previous & ~clear) | set) ^ toggle);
            if (next == previous) return (previous, next);
            ushort seen = Interlocked.CompareExchange(ref storage, next, previous);
            if (seen == previous) return (previous, next);
            previous = seen;
        }
    }

    /// <summary>The stored value: one volatile load.</summary>
    /// <param name="storage">The register's storage field.</param>
    public static uint Load(ref uint storage) => Volatile.Read(ref storage);

    /// <summary>Stores a whole value (a device set, a reset): last writer wins over a concurrent update.</summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="value">The new value.</param>
    public static void Store(ref uint storage, uint value) => Volatile.Write(ref storage, value);

    /// <summary>The bits under <paramref name="mask"/> become those of <paramref name="bits"/>, the others stay: one atomic update.</summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="mask">The bits to replace.</param>
    /// <param name="bits">Their new values (bits outside <paramref name="mask"/> are ignored).</param>
    public static void Replace(ref uint storage, uint mask, uint bits) => Update(ref storage, mask, bits & mask, 0);

    /// <summary>
    /// Stores <c>((previous &amp; ~clear) | set) ^ toggle</c> as one atomic update and returns the value
    /// it replaced and the value it stored. Loops only while another update of the same register
    /// lands between the load and the compare-exchange; an update that changes nothing stores nothing.
    /// </summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="clear">Bits to clear.</param>
    /// <param name="set">Bits to set, after clearing.</param>
    /// <param name="toggle">Bits to flip, last.</param>
    /// <returns>The value replaced and the value stored.</returns>
    public static (uint Previous, uint Next) Update(ref uint storage, uint clear, uint set, uint toggle)
    {
        uint previous = Volatile.Read(ref storage);
        while (true)
        {
            uint next = ((previous & ~clear) | set) ^ toggle;
            if (next == previous) return (previous, next);
            uint seen = Interlocked.CompareExchange(ref storage, next, previous);
            if (seen == previous) return (previous, next);
            previous = seen;
        }
    }

    /// <summary>The stored value: one volatile load.</summary>
    /// <param name="storage">The register's storage field.</param>
    public static ulong Load(ref ulong storage) => Volatile.Read(ref storage);

    /// <summary>Stores a whole value (a device set, a reset): last writer wins over a concurrent update.</summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="value">The new value.</param>
    public static void Store(ref ulong storage, ulong value) => Volatile.Write(ref storage, value);

    /// <summary>The bits under <paramref name="mask"/> become those of <paramref name="bits"/>, the others stay: one atomic update.</summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="mask">The bits to replace.</param>
    /// <param name="bits">Their new values (bits outside <paramref name="mask"/> are ignored).</param>
    public static void Replace(ref ulong storage, ulong mask, ulong bits) => Update(ref storage, mask, bits & mask, 0);

    /// <summary>
    /// Stores <c>((previous &amp; ~clear) | set) ^ toggle</c> as one atomic update and returns the value
    /// it replaced and the value it stored. Loops only while another update of the same register
    /// lands between the load and the compare-exchange; an update that changes nothing stores nothing.
    /// </summary>
    /// <param name="storage">The register's storage field.</param>
    /// <param name="clear">Bits to clear.</param>
    /// <param name="set">Bits to set, after clearing.</param>
    /// <param name="toggle">Bits to flip, last.</param>
    /// <returns>The value replaced and the value stored.</returns>
    public static (ulong Previous, ulong Next) Update(ref ulong storage, ulong clear, ulong set, ulong toggle)
    {
        ulong previous = Volatile.Read(ref storage);
        while (true)
        {
            ulong next = ((previous & ~clear) | set) ^ toggle;
            if (next == previous) return (previous, next);
            ulong seen = Interlocked.CompareExchange(ref storage, next, previous);
            if (seen == previous) return (previous, next);
            previous = seen;
        }
    }
}
