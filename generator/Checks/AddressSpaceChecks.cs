using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using ShadowIo.Generator.Model;

namespace ShadowIo.Generator.Checks;

/// <summary>
/// What a block's address space allows beyond the layout checks: an x86 port I/O block fits the
/// 64 KiB port space, and its registers and doorbells use the widths <c>in</c>/<c>out</c> have
/// (1, 2 or 4 bytes; there is no 8-byte port access, and KVM_EXIT_IO carries at most 4).
/// </summary>
internal static class AddressSpaceChecks
{
    /// <summary>Ports 0x0000–0xFFFF.</summary>
    public const ulong PortSpaceSize = 0x10000;

    public static void Check(
        int addressSpace, string blockName, ulong blockSize, Location blockLocation,
        List<RegisterDeclaration> registers, List<DoorbellDeclaration> doorbells, List<Diagnostic> diagnostics)
    {
        if (addressSpace is < (int)AddressSpace.Mmio or > (int)AddressSpace.Port)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.UndefinedAddressSpace, blockLocation, blockName, addressSpace));
            return;
        }

        if (addressSpace != (int)AddressSpace.Port) return;
        if (blockSize > PortSpaceSize)
        {
            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.PortBlockTooLarge, blockLocation, blockName, blockSize));
        }

        foreach (RegisterDeclaration register in registers)
        {
            if (register.Width == 8) diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.PortAccessTooWide, register.Location, register.Name));
        }

        foreach (DoorbellDeclaration doorbell in doorbells)
        {
            if (doorbell.Width == 8) diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.PortAccessTooWide, doorbell.Location, doorbell.DeclaredName));
        }
    }
}
