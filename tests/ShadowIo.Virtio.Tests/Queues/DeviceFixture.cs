using ShadowIo.Testing;
using ShadowIo.Devices.Nvme;
using ShadowIo.Devices.Virtio;
using ShadowIo.Fuzz.Nvme;
using ShadowIo.Fuzz.Virtio;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Virtio.Tests.Queues;

/// <summary>A device over red-zoned guest RAM and a memory disk, with the driver model and the interrupts it asked for.</summary>
internal sealed class DeviceFixture : IDisposable
{
    public const long DiskBytes = 1 << 20;

    public DeviceFixture(VirtioBlkDeviceOptions? options = null)
    {
        Ram = new GuestRam(VirtioDriverLayout.Base, VirtioDriverLayout.RamSize);
        Storage = new MemoryBlockStorage(DiskBytes);
        Device = new VirtioBlkDevice(Ram.Memory, Storage, options);
        Device.InterruptRequested = Interrupts.Add;
        Driver = new VirtioDriver(Device, Ram);
    }

    public GuestRam Ram { get; }

    public MemoryBlockStorage Storage { get; }

    public VirtioBlkDevice Device { get; }

    public VirtioDriver Driver { get; }

    public List<ushort> Interrupts { get; } = [];

    public const VirtioFeatures Linux = VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx | VirtioFeatures.RingIndirectDesc
        | VirtioFeatures.BlkSegMax | VirtioFeatures.BlkBlockSize | VirtioFeatures.BlkFlush;

    /// <summary>Negotiates <paramref name="features"/>, sets up queue 0 with <paramref name="size"/> entries, DRIVER_OK.</summary>
    public DeviceFixture Ready(VirtioFeatures features = Linux, ushort size = 16)
    {
        if (!Driver.Negotiate(features)) throw new InvalidOperationException("features refused");
        Driver.SetUpQueue(0, size);
        Driver.DriverOk();
        return this;
    }

    /// <summary>Publishes a chain and rings queue 0.</summary>
    public void Submit(ushort head)
    {
        Driver.Publish(0, head);
        Driver.Notify(0);
    }

    public bool NeedsReset => Device.Status.HasFlag(VirtioDeviceStatus.DeviceNeedsReset);

    /// <summary>Nothing the device did reached memory outside guest RAM, and it caught none of its own bugs.</summary>
    public void AssertSafe()
    {
        Xunit.Assert.True(Ram.RedZonesIntact(), "a write landed outside guest RAM");
        Xunit.Assert.Equal(0, Device.InternalErrors);
    }

    public void Dispose()
    {
        Storage.Dispose();
        Ram.Dispose();
    }
}
