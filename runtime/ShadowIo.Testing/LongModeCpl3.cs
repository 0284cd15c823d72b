using ShadowIo.Kvm.Native;

namespace ShadowIo.Testing;

/// <summary>
/// The CPU state for a 64-bit user-mode (CPL3) guest. On a PVM host guest ring-0 code is
/// emulated one instruction at a time while ring-3 code runs natively, so test guests live in
/// ring 3 from the first instruction: no kernel, no GDT in memory, descriptor caches set directly.
/// </summary>
internal static class LongModeCpl3
{
    private const ulong Cr0Pe = 1UL << 0, Cr0Pg = 1UL << 31;
    private const ulong Cr4Pae = 1UL << 5;
    private const ulong EferLme = 1UL << 8, EferLma = 1UL << 10;

    /// <summary>Present | writable | user | 2 MiB page (PS), for PD entries; P|RW|US for the upper levels.</summary>
    private const ulong LargeUserPage = 0x87, UserTable = 0x7;

    /// <summary>User code selector: GDT index 3, RPL 3.</summary>
    public const ushort UserCode = 0x1b;

    /// <summary>User data selector: GDT index 4, RPL 3.</summary>
    public const ushort UserData = 0x23;

    /// <summary>RFLAGS: IOPL = 3 (bits 12-13) so ring 3 may execute <c>out</c>; bit 1 is always set.</summary>
    public const ulong Rflags = 0x3002;

    /// <summary>Writes an identity map of the low 4 GiB with 2 MiB user pages at <see cref="GuestLayout.PageTables"/>.</summary>
    public static void WritePageTables(GuestMemory memory)
    {
        ulong pml4 = GuestLayout.PageTables, pdpt = pml4 + 0x1000, pd = pdpt + 0x1000;
        Put(memory, pml4, pdpt | UserTable);
        for (ulong g = 0; g < 4; g++)
        {
            ulong directory = pd + g * 0x1000;
            Put(memory, pdpt + g * 8, directory | UserTable);
            for (ulong i = 0; i < 512; i++)
                Put(memory, directory + i * 8, ((g << 30) + (i << 21)) | LargeUserPage);
        }
    }

    /// <summary>Long mode, paging on, DPL-3 flat segments and a present busy 64-bit TSS in TR.</summary>
    public static void Apply(ref KvmSregs s)
    {
        var code = new KvmSegment
        {
            Base = 0, Limit = 0xffff_ffff, Selector = UserCode,
            Type = 11, // execute/read, accessed
            Present = 1, Dpl = 3, Db = 0, S = 1, L = 1, G = 1,
        };
        var data = code;
        data.Selector = UserData;
        data.Type = 3; // read/write, accessed
        data.L = 0;
        data.Db = 1;
        s.Cs = code;
        s.Ds = s.Es = s.Fs = s.Gs = s.Ss = data;
        // VM entry demands a usable TR: a busy 64-bit TSS (type 11), system segment (S = 0).
        s.Tr.Type = 11;
        s.Tr.Present = 1;
        s.Tr.S = 0;
        s.Cr3 = GuestLayout.PageTables;
        s.Cr4 |= Cr4Pae;
        s.Efer |= EferLme | EferLma;
        s.Cr0 |= Cr0Pe | Cr0Pg;
    }

    private static void Put(GuestMemory memory, ulong gpa, ulong value)
    {
        if (!memory.TryWrite(gpa, value))
            throw new InvalidOperationException($"Page-table entry at 0x{gpa:x} is outside guest RAM.");
    }
}
