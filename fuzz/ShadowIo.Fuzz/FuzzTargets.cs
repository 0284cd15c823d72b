using ShadowIo.Devices.Nvme;
using ShadowIo.Fuzz.Nvme;
using ShadowIo.Fuzz.Virtio;

namespace ShadowIo.Fuzz;

/// <summary>
/// Every fuzz target by name: what AFL++ runs (instrumented) and what the corpus replay test runs
/// (uninstrumented). A target throws for an invariant violation or an unexpected exception (AFL
/// records a crash); input the device or decoder must reject is handled inside and returns.
/// </summary>
public static class FuzzTargets
{
    /// <summary>The NVMe controller's command, doorbell and BAR0 stream (<see cref="ControllerByteFuzzer"/>).</summary>
    public const string Nvme = "nvme";

    /// <summary>The vfio-user channel and every message decoder, as a server receives a client's stream (<see cref="VfioUserTarget"/>).</summary>
    public const string VfioUser = "vfio-user";

    /// <summary>The virtio-blk device's PCI function (config space, BAR4 structures, MSI-X, reset, the rings behind it) served to a hostile vfio-user client (<see cref="VfioUserVirtioTarget"/>).</summary>
    public const string VfioUserVirtio = "vfio-user-virtio";

    /// <summary>Our vfio-user client against a hostile server's replies and requests (<see cref="VfioUserClientTarget"/>).</summary>
    public const string VfioUserClient = "vfio-user-client";

    /// <summary>The virtio-blk device's rings, descriptors, requests and BAR, as a hostile driver writes them (<see cref="VirtqueueByteFuzzer"/>).</summary>
    public const string VirtioBlk = "virtio-blk";

    public static IReadOnlyList<string> Names { get; } = [Nvme, VfioUser, VfioUserVirtio, VfioUserClient, VirtioBlk];

    public static Action<byte[]> Get(string name) => name switch
    {
        Nvme => static input => ControllerByteFuzzer.Run(input),
        VfioUser => static input => VfioUserTarget.Run(input),
        VfioUserVirtio => static input => VfioUserVirtioTarget.Run(input),
        VfioUserClient => static input => VfioUserClientTarget.Run(input),
        VirtioBlk => static input => VirtqueueByteFuzzer.Run(input),
        _ => throw new ArgumentException($"unknown target '{name}' (targets: {string.Join(", ", Names)})", nameof(name)),
    };
}
