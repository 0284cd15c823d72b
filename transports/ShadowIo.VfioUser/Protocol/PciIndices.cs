namespace ShadowIo.VfioUser.Protocol;

/// <summary>Region indices of a PCI device (linux/vfio.h VFIO_PCI_*_REGION_INDEX).</summary>
internal static class RegionIndex
{
    /// <summary>BAR0; BAR1–BAR5 follow as 1–5.</summary>
    public const uint Bar0 = 0;
    /// <summary>BAR5.</summary>
    public const uint Bar5 = 5;
    /// <summary>The expansion ROM.</summary>
    public const uint Rom = 6;
    /// <summary>PCI configuration space.</summary>
    public const uint Config = 7;
    /// <summary>Legacy VGA ranges.</summary>
    public const uint Vga = 8;
    /// <summary>VFIO_PCI_NUM_REGIONS: the regions this codec accepts an index for (device-specific regions are not served).</summary>
    public const uint Count = 9;
}

/// <summary>IRQ indices of a PCI device (linux/vfio.h VFIO_PCI_*_IRQ_INDEX).</summary>
internal static class IrqIndex
{
    /// <summary>The INTx pin.</summary>
    public const uint Intx = 0;
    /// <summary>MSI.</summary>
    public const uint Msi = 1;
    /// <summary>MSI-X.</summary>
    public const uint Msix = 2;
    /// <summary>The error notification (AER), at most one eventfd.</summary>
    public const uint Err = 3;
    /// <summary>The device-request notification, at most one eventfd.</summary>
    public const uint Req = 4;
    /// <summary>VFIO_PCI_NUM_IRQS.</summary>
    public const uint Count = 5;
}
