namespace ShadowIo.Devices.Virtio;

/// <summary>
/// What the driver wrote for one virtqueue through the common configuration's <c>queue_*</c>
/// window (section 4.1.4.3): kept per queue and shown again when <c>queue_select</c> names it.
/// </summary>
internal struct VirtqueueConfig
{
    public ushort Size;
    public ushort MsixVector;
    public bool Enabled;
    public ulong DescriptorTable;
    public ulong DriverArea;
    public ulong DeviceArea;

    public static VirtqueueConfig Reset(ushort maxSize) => new() { Size = maxSize, MsixVector = VirtioPciLayout.NoVector };
}
