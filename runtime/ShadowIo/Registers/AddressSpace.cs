// Compiled into the generator as well (generator/ShadowIo.Generator.csproj, SHADOWIO_GENERATOR):
// the attribute's value and the generator's model are one enum.
#if SHADOWIO_GENERATOR
namespace ShadowIo.Generator.Model;
#else
namespace ShadowIo;
#endif

/// <summary>
/// Which x86 address space a register block lives in. KVM keeps one I/O bus per space
/// (KVM_MMIO_BUS, KVM_PIO_BUS): an ioeventfd names its space with <c>KVM_IOEVENTFD_FLAG_PIO</c>,
/// and a trapped access arrives as <c>KVM_EXIT_MMIO</c> or <c>KVM_EXIT_IO</c>.
/// </summary>
public enum AddressSpace
{
    /// <summary>Memory-mapped (a PCI memory BAR, virtio-mmio): any address, accesses of 1, 2, 4 or 8 bytes.</summary>
    Mmio = 0,

    /// <summary>
    /// x86 port I/O (<c>in</c>/<c>out</c>, a PCI I/O BAR, legacy virtio-pci): the 64 KiB port
    /// space, accesses of 1, 2 or 4 bytes.
    /// </summary>
    Port = 1,
}
