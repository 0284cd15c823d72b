using ShadowIo.Pci;
using ShadowIo.Qemu;
using ShadowIo.Linux.Tests.Qemu.Support;
using Xunit;

namespace ShadowIo.Linux.Tests.Qemu;

/// <summary>
/// The shared PCI model offers more than QEMU 7.2's proxy carries: the proxy server refuses a
/// 64-bit BAR (the proxy sizes it as a 32-bit BAR plus a bogus I/O BAR) and MSI-X (never delivered).
/// </summary>
public sealed class ProxyFunctionLimitsTests
{
    [Fact]
    public void The_proxy_server_refuses_a_64_bit_bar_and_msix()
    {
        var device = new RecordingDevice();
        var msix = new MsixTable(4);
        PciFunction[] refused =
        [
            new(ServedDevice.Identity, [new PciBar(0, PciBarKind.Memory64, ServedDevice.Bar0Size, device)]),
            new(ServedDevice.Identity, [new PciBar(0, PciBarKind.Memory32, ServedDevice.Bar0Size, device), new PciBar(4, PciBarKind.Memory32, msix.BarSize, msix)],
                Msix: PciMsix.InBar(4, msix)),
        ];
        foreach (var function in refused)
        {
            using var link = ProxySocketPair.Create();
            Assert.Throws<ArgumentException>(() => new QemuProxyServer(link, function));
        }
    }
}
