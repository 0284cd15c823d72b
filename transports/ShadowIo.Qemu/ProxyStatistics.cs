namespace ShadowIo.Qemu;

/// <summary>
/// What crossed the proxy link. Written by the server thread only; read from any thread.
/// </summary>
public sealed class ProxyStatistics
{
    internal long ConfigReadsField;
    internal long ConfigWritesField;
    internal long BarReadsField;
    internal long BarWritesField;
    internal long DoorbellWritesField;
    internal long MemorySyncsField;
    internal long ResetsField;
    internal long RejectedField;

    /// <summary>PCI_CFGREAD requests, malformed ones included.</summary>
    public long ConfigReads => Volatile.Read(ref ConfigReadsField);

    /// <summary>PCI_CFGWRITE requests, malformed ones included.</summary>
    public long ConfigWrites => Volatile.Read(ref ConfigWritesField);

    /// <summary>BAR_READ requests, malformed and unroutable ones included.</summary>
    public long BarReads => Volatile.Read(ref BarReadsField);

    /// <summary>All BAR writes, doorbells included.</summary>
    public long BarWrites => Volatile.Read(ref BarWritesField);

    /// <summary>
    /// BAR writes at a doorbell offset of the BAR's doorbell table, trapped or dispatched: the MMIO
    /// doorbell writes that reached the device (what shadow doorbells and EventIdx try to avoid).
    /// </summary>
    public long DoorbellWrites => Volatile.Read(ref DoorbellWritesField);

    /// <summary>SYNC_SYSMEM messages (guest memory map updates), applied or rejected.</summary>
    public long MemorySyncs => Volatile.Read(ref MemorySyncsField);

    /// <summary>DEVICE_RESET requests (system resets that reached the proxy).</summary>
    public long Resets => Volatile.Read(ref ResetsField);

    /// <summary>Malformed or unroutable messages (logged and answered or dropped).</summary>
    public long Rejected => Volatile.Read(ref RejectedField);

    /// <summary>Every counter on one line, for logs and the demo's output.</summary>
    public override string ToString() =>
        $"config r/w {ConfigReads}/{ConfigWrites}, BAR r/w {BarReads}/{BarWrites} (doorbells {DoorbellWrites}), memory syncs {MemorySyncs}, resets {Resets}, rejected {Rejected}";
}
