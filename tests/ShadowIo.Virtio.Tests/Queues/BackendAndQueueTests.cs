using ShadowIo.Testing;
using ShadowIo.Devices.Nvme;
using ShadowIo.Devices.Virtio;
using ShadowIo.Fuzz.Nvme;
using ShadowIo.Fuzz.Virtio;
using Xunit;
using ShadowIo.Devices.Storage;

namespace ShadowIo.Virtio.Tests.Queues;

/// <summary>A sparse-file backend, and several request queues served independently (VIRTIO_BLK_F_MQ).</summary>
public sealed class BackendAndQueueTests
{
    [Fact]
    public void A_sparse_file_backs_the_disk_and_flush_reaches_it()
    {
        string path = Path.Combine(Path.GetTempPath(), $"shadowio-virtio-{Guid.NewGuid():N}.img");
        try
        {
            using var ram = new GuestRam(VirtioDriverLayout.Base, VirtioDriverLayout.RamSize);
            using (var file = FileBlockStorage.Open(path, 4L << 20))
            {
                var device = new VirtioBlkDevice(ram.Memory, file);
                var driver = new VirtioDriver(device, ram);
                Assert.True(driver.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.BlkFlush));
                driver.SetUpQueue(0, 16);
                driver.DriverOk();
                Assert.Equal(8192L, device.CapacitySectors);
                var data = ram.At(VirtioDriverLayout.Data, 4096);
                for (int i = 0; i < data.Length; i++) data[i] = (byte)(i ^ 0x5A);
                driver.Publish(0, driver.BuildRequest(0, 0, VirtioBlkRequestType.Out, 8000, VirtioDriverLayout.Data, 4096));
                driver.Notify(0);
                driver.Publish(0, driver.BuildRequest(0, 4, VirtioBlkRequestType.Flush, 0, 0, 0));
                driver.Notify(0);
                Assert.Equal((0, 0), (driver.StatusOf(0, 0), driver.StatusOf(0, 4)));
            }
            var onDisk = File.ReadAllBytes(path).AsSpan(8000 * 512, 4096);
            Assert.Equal(Enumerable.Range(0, 4096).Select(i => (byte)(i ^ 0x5A)).ToArray(), onDisk.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Each_request_queue_rings_at_its_own_notify_offset_and_completes_on_its_own_ring()
    {
        using var f = new DeviceFixture(new VirtioBlkDeviceOptions { Queues = 4 });
        Assert.True(f.Driver.Negotiate(DeviceFixture.Linux | VirtioFeatures.BlkMultiQueue));
        for (int q = 0; q < 4; q++) f.Driver.SetUpQueue(q, 16);
        f.Driver.DriverOk();
        for (int q = 0; q < 4; q++)
        {
            f.Driver.Publish(q, f.Driver.BuildRequest(q, 0, VirtioBlkRequestType.GetId, 0, VirtioDriverLayout.Data + 64UL * (ulong)q, 20));
            f.Driver.Notify(q);
            Assert.Equal(1, f.Driver.UsedIdx(q));
            for (int other = q + 1; other < 4; other++) Assert.Equal(0, f.Driver.UsedIdx(other));
            Assert.Equal(0, f.Driver.StatusOf(q, 0));
        }
        Assert.Equal(4L, f.Device.Counters.Notifications);
        f.AssertSafe();
    }
}
