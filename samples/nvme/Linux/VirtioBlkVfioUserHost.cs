using ShadowIo.Devices.Storage;
using ShadowIo.Devices.Virtio;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// The virtio-blk device served to QEMU 11.1's <c>vfio-user-pci</c> through
/// <see cref="VfioUserDeviceHost"/>: its <see cref="VirtioPciFunction"/> (BAR4 with the notify
/// doorbells trapped into eventfds, MSI-X in BAR1, the vendor capabilities), interrupts routed by
/// virtio vector (§4.1.5.1.2) to the server's MSI-X eventfds. With
/// <see cref="VirtioNotifyDelivery.Inline"/> the notify region has no doorbells and no device
/// thread runs: the server's thread serves each notify write as it receives it (that enum's
/// threading contract).
/// </summary>
internal sealed class VirtioBlkVfioUserHost : IDisposable
{
    /// <param name="socketPath">Where the server listens (QEMU's <c>socket.path</c>, seen from the host).</param>
    /// <param name="spin">How long the device thread keeps polling after the last work before it sleeps.</param>
    /// <param name="queues">
    /// Request queues (VIRTIO_BLK_F_MQ above 1): one per guest vCPU, as QEMU's virtio-blk-pci gives
    /// by default (num-queues = vCPUs since QEMU 5.2). Linux's virtio_blk then maps each CPU to its
    /// own queue and MSI-X vector, so a completion interrupts the CPU that submitted; with one queue
    /// every interrupt lands on one CPU and fio on the other waits for the cross-CPU wake-up.
    /// </param>
    /// <param name="notify">How notify writes reach the device: doorbells and a device thread, or served on the server's thread.</param>
    public VirtioBlkVfioUserHost(string socketPath, IBlockStorage storage, TimeSpan spin, int queues, VirtioNotifyDelivery notify, Action<string>? log = null)
    {
        var memory = new GuestMemory();
        Device = new VirtioBlkDevice(memory, storage, new VirtioBlkDeviceOptions { Queues = queues });
        Pci = new VirtioPciFunction(Device, notify);
        Host = new VfioUserDeviceHost(socketPath, Pci.Function, memory, Device, Pci.Doorbells,
            server => Pci.ConnectInterrupts(() => server.Interrupts.MsixMode, server.Interrupts.Raise), "virtio-blk", spin, log).Start();
    }

    /// <summary>The device-agnostic part: server, device thread, statistics.</summary>
    public VfioUserDeviceHost Host { get; }

    public VirtioBlkDevice Device { get; }

    public VirtioPciFunction Pci { get; }

    /// <summary>
    /// Notify writes that reached the device: counted by the server's doorbell trap, or (inline,
    /// where the server knows no doorbell offsets) by the device's dispatch, one per write either way.
    /// </summary>
    public long NotifyWrites => Pci.Doorbells != null ? Host.MmioDoorbellWrites : Device.Counters.Notifications;

    public void Dispose()
    {
        Host.Dispose();
        Pci.Dispose();
    }
}
