namespace ShadowIo.Virtio.Tests.EndToEnd;

/// <summary>Where the CPL3 virtio-blk driver keeps everything in guest RAM, and where the BAR is.</summary>
internal static class VirtioGuestLayout
{
    public const ulong RamSize = 16UL << 20;

    /// <summary>The device's memory BAR: above RAM, below 4 GiB (identity-mapped, so the guest reaches it).</summary>
    public const ulong Bar = 0xE000_0000;

    public const ulong Statistics = 0x10_0000;
    public const ulong Descriptors = 0x10_1000;
    public const ulong Avail = 0x10_2000;
    public const ulong Used = 0x10_3000;
    /// <summary>Indirect table of slot s at + 64 s: header, data, status.</summary>
    public const ulong IndirectTables = 0x10_4000;
    /// <summary>Header of slot s at + 32 s, its status byte at + 32 s + 16.</summary>
    public const ulong Headers = 0x10_5000;
    /// <summary>Data buffer of slot s at + 4096 s.</summary>
    public const ulong Data = 0x11_0000;

    public const ushort QueueSize = 256;
    public const int MaxDepth = 64;
    public const int BlockBytes = 4096;
    public const int SectorsPerBlock = BlockBytes / 512;

    public static ulong AvailEvent => Used + 4 + 8UL * QueueSize;
    public static ulong UsedEvent => Avail + 4 + 2UL * QueueSize;
    public static ulong Header(int slot) => Headers + 32UL * (ulong)slot;
    public static ulong DataOf(int slot) => Data + (ulong)BlockBytes * (ulong)slot;
    public static ulong IndirectOf(int slot) => IndirectTables + 64UL * (ulong)slot;
}

/// <summary>The statistics block the guest keeps (qwords at <see cref="VirtioGuestLayout.Statistics"/>).</summary>
internal static class GuestCounters
{
    public const int AvailIdx = 0x00;
    public const int LastUsed = 0x08;
    public const int KickDecisions = 0x10;
    public const int NotifyWrites = 0x18;
    public const int NotifiesSkipped = 0x20;
    public const int StatusErrors = 0x28;
    public const int OrderErrors = 0x30;
    public const int DataErrors = 0x38;
    public const int Completed = 0x40;
    public const int StatusAfterFeatures = 0x48;
    public const int StatusAfterDriverOk = 0x50;
    public const int TimedOut = 0x58;
    public const int Size = 0x60;
}
