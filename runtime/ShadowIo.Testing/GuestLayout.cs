namespace ShadowIo.Testing;

/// <summary>
/// Where a <see cref="TestGuest"/> puts things in guest-physical memory (identity-mapped, so
/// these are also the guest's virtual addresses).
/// </summary>
public static class GuestLayout
{
    /// <summary>PML4; the PDPT follows at +0x1000, then four page directories.</summary>
    public const ulong PageTables = 0x1000;

    /// <summary>Bytes of page tables: PML4, PDPT and four PDs mapping 4 GiB with 2 MiB pages.</summary>
    public const ulong PageTablesSize = 6 * 0x1000;

    /// <summary>Where <see cref="TestGuest.Load(Iced.Intel.Assembler)"/> assembles and places the code; execution starts here.</summary>
    public const ulong Code = 0x10000;

    /// <summary>Room for code, up to <see cref="Data"/>.</summary>
    public const ulong CodeSize = Data - Code;

    /// <summary>Free RAM for the test's own data (shadow pages, queues, buffers), up to the stack.</summary>
    public const ulong Data = 0x100000;

    /// <summary>Bytes at the top of RAM reserved for the stack (RSP starts at the end of RAM).</summary>
    public const ulong StackSize = 0x10000;

    /// <summary>The guest's identity map covers the low 4 GiB: RAM below, MMIO anywhere above RAM.</summary>
    public const ulong MappedLimit = 1UL << 32;

    /// <summary>Port whose <c>out</c> ends <see cref="TestGuest.RunToFinish"/> (POST-code port, as in the yardstick).</summary>
    public const ushort FinishPort = 0x80;

    /// <summary>Default RAM size: 4 MiB.</summary>
    public const ulong DefaultRamSize = 4UL << 20;
}
