namespace ShadowIo.Devices.Virtio.Mmio;

/// <summary>
/// The device side of the virtio-mmio map: the generated dispatch calls these hooks on the guest's
/// thread after it applied the write, and they hand it to the attached device.
/// </summary>
public sealed partial class VirtioMmioRegisters
{
    private IVirtioMmioDevice? _device;

    /// <summary>Connects the map to the device that acts on the driver's writes; until then writes are only stored.</summary>
    /// <param name="device">The device (its own virtqueues, features and status handshake).</param>
    public void Attach(IVirtioMmioDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
    }

    partial void OnDeviceFeaturesSelWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.DeviceFeaturesSel, value);

    partial void OnDriverFeaturesWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.DriverFeatures, value);

    partial void OnDriverFeaturesSelWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.DriverFeaturesSel, value);

    partial void OnQueueSelWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueSel, value);

    partial void OnQueueNumWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueNum, value);

    partial void OnQueueReadyWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueReady, value);

    partial void OnStatusWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.Status, value);

    partial void OnQueueDescLowWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueDescLow, value);

    partial void OnQueueDescHighWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueDescHigh, value);

    partial void OnQueueDriverLowWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueDriverLow, value);

    partial void OnQueueDriverHighWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueDriverHigh, value);

    partial void OnQueueDeviceLowWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueDeviceLow, value);

    partial void OnQueueDeviceHighWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueDeviceHigh, value);

    partial void OnShmSelWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.ShmSel, value);

    partial void OnQueueResetWritten(uint previous, uint value) => _device?.OnRegisterWritten(VirtioMmioRegister.QueueReset, value);

    // Section 4.2.2, InterruptACK: writing the InterruptStatus bits the driver handled tells the device
    // those events are dealt with, so they leave InterruptStatus (one atomic update: a bit the device
    // sets meanwhile stays set).
    partial void OnInterruptAckWritten(uint previous, uint value)
    {
        global::ShadowIo.RegisterStorage.Update(ref _interruptStatus, value & InterruptAckMask, 0, 0);
        _device?.OnRegisterWritten(VirtioMmioRegister.InterruptAck, value);
    }

    private const uint InterruptAckMask = InterruptAckFields.UsedBufferNotificationMask | InterruptAckFields.ConfigurationChangeNotificationMask;

    // The driver writes the index of the queue it notifies (section 4.2.3.3). Every write that
    // reaches dispatch arrives here with the first row declared at 0x050, so the value, not the
    // row, names the queue; an index past the map's queues is no notification of anything.
    partial void OnDoorbellWritten(int row, ulong value)
    {
        if (value < QueueCount) _device?.OnQueueNotified((int)value);
    }
}

/// <summary>The virtio-mmio registers the driver writes and the device acts on (section 4.2.2).</summary>
public enum VirtioMmioRegister
{
    /// <summary>DeviceFeaturesSel (0x014): the device loads the selected half into DeviceFeatures.</summary>
    DeviceFeaturesSel,

    /// <summary>DriverFeatures (0x020): the accepted bits of the half DriverFeaturesSel names.</summary>
    DriverFeatures,

    /// <summary>DriverFeaturesSel (0x024).</summary>
    DriverFeaturesSel,

    /// <summary>QueueSel (0x030): the device loads the selected queue's QueueNumMax, QueueReady and QueueReset.</summary>
    QueueSel,

    /// <summary>QueueNum (0x038).</summary>
    QueueNum,

    /// <summary>QueueReady (0x044).</summary>
    QueueReady,

    /// <summary>Status (0x070): 0 resets the device (section 2.4).</summary>
    Status,

    /// <summary>QueueDescLow (0x080).</summary>
    QueueDescLow,

    /// <summary>QueueDescHigh (0x084).</summary>
    QueueDescHigh,

    /// <summary>QueueDriverLow (0x090).</summary>
    QueueDriverLow,

    /// <summary>QueueDriverHigh (0x094).</summary>
    QueueDriverHigh,

    /// <summary>QueueDeviceLow (0x0A0).</summary>
    QueueDeviceLow,

    /// <summary>QueueDeviceHigh (0x0A4).</summary>
    QueueDeviceHigh,

    /// <summary>SHMSel (0x0AC): the device loads the selected region's SHMLen* and SHMBase*.</summary>
    ShmSel,

    /// <summary>QueueReset (0x0C0).</summary>
    QueueReset,

    /// <summary>InterruptACK (0x064): the map has already cleared the acknowledged InterruptStatus bits.</summary>
    InterruptAck,
}

/// <summary>
/// What a virtio-mmio device implements to be driven through <see cref="VirtioMmioRegisters"/>.
/// Both methods run on the guest's thread (a vCPU or a transport's server thread), after the
/// write was stored, with no lock held by the map.
/// </summary>
public interface IVirtioMmioDevice
{
    /// <summary>The driver wrote <paramref name="register"/>; <paramref name="value"/> is what it now holds.</summary>
    /// <param name="register">The register written.</param>
    /// <param name="value">The register's value after the write.</param>
    void OnRegisterWritten(VirtioMmioRegister register, uint value);

    /// <summary>
    /// The driver notified virtqueue <paramref name="queue"/> through a write that reached the map's
    /// dispatch: the map serves QueueNotify without a doorbell binding. With a binding, in every
    /// mode (the trap path included) the write signals the row's eventfd instead and never gets here.
    /// </summary>
    /// <param name="queue">The queue index written to QueueNotify, below <see cref="VirtioMmioRegisters.QueueCount"/>.</param>
    void OnQueueNotified(int queue);
}
