using ShadowIo.Binding;

namespace ShadowIo.VfioUser.Client;

/// <summary>
/// A BAR of the remote device attached to the VMM's bus: the MMIO device the bus dispatches to
/// (reads become REGION_READ, writes REGION_WRITE, each waiting for the server's reply) and,
/// when the doorbells were bound, the <see cref="DoorbellBinding"/> over the server's eventfds
/// and shadow memfd that takes doorbell writes before the device does.
/// </summary>
/// <remarks>Disposing removes the BAR from the bus and deassigns its ioeventfds; the client does this for every BAR it attached.</remarks>
public sealed class VfioUserBar : IMmioDevice, IDisposable
{
    private readonly VfioUserClient _client;
    private readonly MmioBus _bus;
    private int _disposed;

    internal VfioUserBar(VfioUserClient client, MmioBus bus, VfioUserRegion region, ulong gpa, DoorbellBinding? doorbells)
    {
        _client = client;
        _bus = bus;
        Region = region;
        Gpa = gpa;
        Doorbells = doorbells;
    }

    /// <summary>The region behind the BAR.</summary>
    public VfioUserRegion Region { get; }

    /// <summary>Guest-physical address of the BAR's first byte.</summary>
    public ulong Gpa { get; }

    /// <summary>
    /// The doorbells bound with KVM from the server's region IO fds (null when attached without:
    /// every doorbell write is then a REGION_WRITE). Its eventfds and shadow are the server's own.
    /// </summary>
    public DoorbellBinding? Doorbells { get; }

    /// <summary>A guest read the bus did not serve otherwise: REGION_READ (all ones if it fails; never throws).</summary>
    public ulong ReadMmio(ulong offset, int size) => _client.RegionRead(Region.Index, offset, size, fromMmio: true);

    /// <summary>A guest write no doorbell took: REGION_WRITE (dropped if it fails; never throws).</summary>
    public void WriteMmio(ulong offset, int size, ulong value) => _client.RegionWrite(Region.Index, offset, size, value, fromMmio: true);

    /// <summary>Removes the BAR from the bus, then deassigns its ioeventfds and closes its doorbell fds.</summary>
    public void Dispose() => _client.Detach(this);

    internal void DisposeCore()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _bus.Remove(Gpa);
        Doorbells?.Dispose();
    }
}
