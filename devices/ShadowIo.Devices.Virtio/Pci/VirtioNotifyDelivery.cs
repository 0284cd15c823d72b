namespace ShadowIo.Devices.Virtio;

/// <summary>How a <see cref="VirtioPciFunction"/>'s notify writes (virtio 1.2, §4.1.4.4) reach its device.</summary>
public enum VirtioNotifyDelivery
{
    /// <summary>
    /// Trapped into the function's <see cref="VirtioPciFunction.Doorbells"/> (the row's eventfd,
    /// or a KVM ioeventfd) for a device thread, such as the runtime's <c>DeviceRunner</c>, to wait
    /// on and serve: two threads, so the transport's thread never runs a request.
    /// </summary>
    Doorbells,

    /// <summary>
    /// No doorbell set: the transport dispatches the notify write to
    /// <see cref="VirtioBlkDevice.WriteMmio"/>, which serves the queue on the writing thread (a
    /// vfio-user server's thread, as QEMU's own virtio-blk serves it in the vCPU's write), one
    /// thread hop fewer per request.
    /// </summary>
    /// <remarks>
    /// Threading contract: the transport's thread is then the device's only driver. The host runs
    /// no device thread on it (nothing to wait on) and never sets
    /// <see cref="VirtioBlkDevice.IsPolling"/>, which would suppress the notifications nobody then
    /// polls for; the device's lock still serialises any other entry point (a reset, a test's
    /// <see cref="VirtioBlkDevice.Poll"/>). Requests, completions and interrupts run on that thread,
    /// so a slow backing store stalls the transport's other messages meanwhile.
    /// </remarks>
    Inline,
}
