namespace ShadowIo.Devices.Nvme;

/// <summary>
/// The controller's own doorbell value page, used when doorbell writes reach it through MMIO
/// dispatch (tests, trap handling by the bus) rather than through a binding's shadow page.
/// </summary>
/// <remarks>
/// The only unsafe code in the controller: the page is controller-owned host memory, never
/// guest memory, and is exposed only as a bounds-checked <see cref="ShadowRegion"/>.
/// </remarks>
internal sealed unsafe class PrivateDoorbellPage : IDisposable
{
    private readonly MemoryMapping _mapping = MemoryMapping.CreateAnonymous(4096);

    public ShadowRegion Region => new(_mapping.Pointer, (int)_mapping.Length);

    public void Dispose() => _mapping.Dispose();
}
