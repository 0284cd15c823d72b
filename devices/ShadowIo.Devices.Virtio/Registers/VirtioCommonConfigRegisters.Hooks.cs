namespace ShadowIo.Devices.Virtio;

/// <summary>
/// The device side of the common configuration: the generated dispatch calls these hooks on the
/// guest's thread after it applied the write, and they hand the write to the device, which takes
/// its lock and keeps the per-queue state behind the <c>queue_*</c> window.
/// </summary>
public sealed partial class VirtioCommonConfigRegisters
{
    private ICommonConfigEvents? _events;

    internal void Attach(ICommonConfigEvents events) => _events = events;

    partial void OnDeviceFeatureSelectWritten(uint previous, uint value) => _events?.OnCommonConfigWritten(CommonConfigRegister.DeviceFeatureSelect, previous, value);

    partial void OnDriverFeatureSelectWritten(uint previous, uint value) => _events?.OnCommonConfigWritten(CommonConfigRegister.DriverFeatureSelect, previous, value);

    partial void OnDriverFeatureWritten(uint previous, uint value) => _events?.OnCommonConfigWritten(CommonConfigRegister.DriverFeature, previous, value);

    partial void OnConfigMsixVectorWritten(ushort previous, ushort value) => _events?.OnCommonConfigWritten(CommonConfigRegister.ConfigMsixVector, previous, value);

    partial void OnDeviceStatusWritten(byte previous, byte value) => _events?.OnCommonConfigWritten(CommonConfigRegister.DeviceStatus, previous, value);

    partial void OnQueueSelectWritten(ushort previous, ushort value) => _events?.OnCommonConfigWritten(CommonConfigRegister.QueueSelect, previous, value);

    partial void OnQueueSizeWritten(ushort previous, ushort value) => _events?.OnCommonConfigWritten(CommonConfigRegister.QueueSize, previous, value);

    partial void OnQueueMsixVectorWritten(ushort previous, ushort value) => _events?.OnCommonConfigWritten(CommonConfigRegister.QueueMsixVector, previous, value);

    partial void OnQueueEnableWritten(ushort previous, ushort value) => _events?.OnCommonConfigWritten(CommonConfigRegister.QueueEnable, previous, value);

    partial void OnQueueDescWritten(ulong previous, ulong value) => _events?.OnCommonConfigWritten(CommonConfigRegister.QueueDesc, previous, value);

    partial void OnQueueDriverWritten(ulong previous, ulong value) => _events?.OnCommonConfigWritten(CommonConfigRegister.QueueDriver, previous, value);

    partial void OnQueueDeviceWritten(ulong previous, ulong value) => _events?.OnCommonConfigWritten(CommonConfigRegister.QueueDevice, previous, value);
}

/// <summary>The common configuration registers whose writes the device acts on.</summary>
internal enum CommonConfigRegister
{
    DeviceFeatureSelect,
    DriverFeatureSelect,
    DriverFeature,
    ConfigMsixVector,
    DeviceStatus,
    QueueSelect,
    QueueSize,
    QueueMsixVector,
    QueueEnable,
    QueueDesc,
    QueueDriver,
    QueueDevice,
}

/// <summary>What the common configuration reports to its device.</summary>
internal interface ICommonConfigEvents
{
    void OnCommonConfigWritten(CommonConfigRegister register, ulong previous, ulong value);
}
