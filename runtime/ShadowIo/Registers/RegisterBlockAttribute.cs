namespace ShadowIo;

/// <summary>
/// Declares a <c>partial</c> class as one device register block (typically one PCI BAR).
/// The ShadowIo generator checks its layout at compile time and emits the doorbell table,
/// the shadow-page layout, typed doorbell readers and MMIO dispatch for its registers.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class RegisterBlockAttribute(string name, ulong size) : Attribute
{
    /// <summary>Human-readable block name, e.g. <c>"NVMe BAR0"</c>.</summary>
    public string Name { get; } = name;

    /// <summary>Size of the block in bytes (the BAR size).</summary>
    public ulong Size { get; } = size;

    /// <summary>
    /// Bytes available for value-carrying doorbells in the shadow page. One page by default:
    /// the size of an NVMe Doorbell Buffer Config shadow buffer.
    /// </summary>
    public int ShadowSize { get; set; } = 4096;

    /// <summary>
    /// <see cref="ShadowIo.AddressSpace.Port"/> declares an x86 port I/O block: the generator
    /// checks it fits the 64 KiB port space with 1-, 2- and 4-byte accesses, and a binding
    /// registers its doorbells with <c>KVM_IOEVENTFD_FLAG_PIO</c>. MMIO by default.
    /// </summary>
    public AddressSpace AddressSpace { get; set; } = AddressSpace.Mmio;
}
