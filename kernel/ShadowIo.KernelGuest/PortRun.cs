using Iced.Intel;
using ShadowIo;
using ShadowIo.Binding;
using ShadowIo.Testing;

namespace ShadowIo.KernelGuest;

/// <summary>
/// A port I/O block (an I/O BAR): value doorbells of each port width and two notify doorbells
/// sharing one 16-bit port with the queue index as datamatch (legacy virtio-pci's queue notify).
/// The patch stores post-write values on KVM_PIO_BUS as on KVM_MMIO_BUS (one ioeventfd_write
/// for both buses): this block is how the guest run proves it.
/// </summary>
[RegisterBlock("Kernel post-write port block", 0x20, AddressSpace = AddressSpace.Port)]
[Doorbell("Byte", 0x00, 1)]
[Doorbell("Word", 0x02, 2)]
[Doorbell("Dword", 0x04, 4)]
[NotifyDoorbell("Queue0", 0x10, 2, DataMatch = 0)]
[NotifyDoorbell("Queue1", 0x10, 2, DataMatch = 1)]
public sealed partial class PortTestBlock
{
    [Register(0x08, 4)]
    public partial uint Scratch { get; set; }

    public List<(int Row, ulong Value)> Dispatched { get; } = [];

    partial void OnDoorbellWritten(int row, ulong value) => Dispatched.Add((row, value));
}

/// <summary>What the emulator saw of one port run.</summary>
internal sealed record PortObservation(ulong[] Signals, ulong[] LastValues, (int Row, ulong Value)[] Dispatched, long ExitsToUserspace);

/// <summary>
/// Runs a CPL3 nested guest ringing <see cref="PortTestBlock"/> at port 0xC000 with
/// <c>out dx</c> in one binding mode. In post-write mode the guest only writes the port, so the
/// values the reader finds in the memfd shadow page can only have been stored by the patched KVM.
/// </summary>
internal static class PortRun
{
    public const ushort BlockPort = 0xC000;

    public static DoorbellTable Table => PortTestBlock.DoorbellTable;

    public static PortObservation Run(DoorbellBindingMode mode, IReadOnlyList<DoorbellWrite> writes)
    {
        bool guestStores = mode == DoorbellBindingMode.GuestShadow;
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        DoorbellSequence.EmitWrites(a, Table, BlockPort, guestStores ? ModeRun.GuestShadowGpa : null, writes);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var binding = DoorbellBinding.Create(guest.Vm, Table, BlockPort, mode);
        if (binding.Mode != mode)
            throw new InvalidOperationException($"asked for {mode}, the binding resolved to {binding.Mode}");
        if (guestStores)
        {
            if (!guest.Memory.TryGetShadowRegion(ModeRun.GuestShadowGpa, 4096, out var shadow))
                throw new InvalidOperationException("the guest shadow page is not in guest RAM");
            binding.AttachGuestShadow(shadow);
        }
        var device = new PortTestBlock();
        guest.Ports.Add(BlockPort, device, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var counter = new DoorbellSignalCounter(events, source, Table.Count);

        var result = guest.RunToFinish(new MmioBus());
        var signals = counter.Stop();

        var reader = new PortTestBlock.DoorbellReader(binding.Shadow);
        var last = new ulong[Table.Count];
        last[PortTestBlock.DoorbellIndex.Byte] = reader.Byte;
        last[PortTestBlock.DoorbellIndex.Word] = reader.Word;
        last[PortTestBlock.DoorbellIndex.Dword] = reader.Dword;
        return new PortObservation(signals, last, [.. device.Dispatched], result.ExitsToUserspace);
    }
}
