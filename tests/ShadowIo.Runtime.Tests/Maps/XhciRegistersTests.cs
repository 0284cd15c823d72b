using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Devices.Xhci;
using ShadowIo.Kvm;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Maps;

/// <summary>
/// The xHCI BAR0 map (devices/ShadowIo.Devices.Xhci) against xHCI 1.2 §5's tables, and its
/// doorbell array bound on /dev/kvm in every binding mode with seeded traffic from a CPL3 guest,
/// which also programs a port's and an interrupter's registers through the indexed dispatch.
/// </summary>
public sealed class XhciRegistersTests
{
    private const ulong BlockGpa = 0xFE00_0000;
    private const ulong GuestShadowGpa = GuestLayout.Data;

    /// <summary>xHCI 1.2 Table 5-9 (Host Controller Capability Registers): offset, size in bytes.</summary>
    public static TheoryData<string, ulong, int> CapabilityRegisters => new()
    {
        { "CAPLENGTH", 0x00, 1 },
        { "HCIVERSION", 0x02, 2 },
        { "HCSPARAMS1", 0x04, 4 },
        { "HCSPARAMS2", 0x08, 4 },
        { "HCSPARAMS3", 0x0C, 4 },
        { "HCCPARAMS1", 0x10, 4 },
        { "DBOFF", 0x14, 4 },
        { "RTSOFF", 0x18, 4 },
        { "HCCPARAMS2", 0x1C, 4 },
    };

    /// <summary>xHCI 1.2 Table 5-18 (Host Controller Operational Registers): offset from the operational base, size.</summary>
    public static TheoryData<string, ulong, int> OperationalRegisters => new()
    {
        { "USBCMD", 0x00, 4 },
        { "USBSTS", 0x04, 4 },
        { "PAGESIZE", 0x08, 4 },
        { "DNCTRL", 0x14, 4 },
        { "CRCR", 0x18, 8 },
        { "DCBAAP", 0x30, 8 },
        { "CONFIG", 0x38, 4 },
    };

    /// <summary>xHCI 1.2 Table 5-18, port register set (§5.4.8-§5.4.11): offset within the set at 0x400 + 0x10 × (n − 1).</summary>
    public static TheoryData<string, ulong, int> PortRegisters => new()
    {
        { "PORTSC", 0x0, 4 },
        { "PORTPMSC", 0x4, 4 },
        { "PORTLI", 0x8, 4 },
        { "PORTHLPMC", 0xC, 4 },
    };

    /// <summary>xHCI 1.2 Table 5-35 (Host Controller Runtime Registers) and §5.5.2: offset within an interrupter register set at 0x20 + 32 × n.</summary>
    public static TheoryData<string, ulong, int> InterrupterRegisters => new()
    {
        { "IMAN", 0x00, 4 },
        { "IMOD", 0x04, 4 },
        { "ERSTSZ", 0x08, 4 },
        { "ERSTBA", 0x10, 8 },
        { "ERDP", 0x18, 8 },
    };

    private static ulong Declared(string register) => register switch
    {
        "CAPLENGTH" => XhciRegisters.CapLengthOffset,
        "HCIVERSION" => XhciRegisters.HciVersionOffset,
        "HCSPARAMS1" => XhciRegisters.HcsParams1Offset,
        "HCSPARAMS2" => XhciRegisters.HcsParams2Offset,
        "HCSPARAMS3" => XhciRegisters.HcsParams3Offset,
        "HCCPARAMS1" => XhciRegisters.HccParams1Offset,
        "DBOFF" => XhciRegisters.DbOffOffset,
        "RTSOFF" => XhciRegisters.RtsOffOffset,
        "HCCPARAMS2" => XhciRegisters.HccParams2Offset,
        "USBCMD" => XhciRegisters.UsbCmdOffset,
        "USBSTS" => XhciRegisters.UsbStsOffset,
        "PAGESIZE" => XhciRegisters.PageSizeOffset,
        "DNCTRL" => XhciRegisters.DnCtrlOffset,
        "CRCR" => XhciRegisters.CrcrOffset,
        "DCBAAP" => XhciRegisters.DcbaapOffset,
        "CONFIG" => XhciRegisters.ConfigOffset,
        "PORTSC" => XhciRegisters.PortRegisterSet.PortScOffset,
        "PORTPMSC" => XhciRegisters.PortRegisterSet.PortPmscOffset,
        "PORTLI" => XhciRegisters.PortRegisterSet.PortLiOffset,
        "PORTHLPMC" => XhciRegisters.PortRegisterSet.PortHlpmcOffset,
        "IMAN" => XhciRegisters.InterrupterRegisterSet.ImanOffset,
        "IMOD" => XhciRegisters.InterrupterRegisterSet.ImodOffset,
        "ERSTSZ" => XhciRegisters.InterrupterRegisterSet.ErstSzOffset,
        "ERSTBA" => XhciRegisters.InterrupterRegisterSet.ErstBaOffset,
        "ERDP" => XhciRegisters.InterrupterRegisterSet.ErdpOffset,
        _ => throw new ArgumentOutOfRangeException(nameof(register)),
    };

    /// <summary>The width, observed through dispatch: a full-width read is served, a wider one at the same offset is not.</summary>
    private static void AssertWidth(ulong absolute, int width)
    {
        var block = new XhciRegisters();
        block.WriteMmio(absolute, width, ulong.MaxValue); // whatever the register's rules keep
        Assert.True(width == 8 || block.ReadMmio(absolute, width * 2) == 0 || absolute % (ulong)(width * 2) != 0);
        Assert.Equal(block.ReadMmio(absolute, width) & 0xFF, block.ReadMmio(absolute, 1));
    }

    [Theory]
    [MemberData(nameof(CapabilityRegisters))]
    public void Capability_registers_follow_table_5_9(string register, ulong offset, int width)
    {
        Assert.Equal(offset, Declared(register));
        AssertWidth(offset, width);
    }

    [Theory]
    [MemberData(nameof(OperationalRegisters))]
    public void Operational_registers_follow_table_5_18_from_CAPLENGTH(string register, ulong offset, int width)
    {
        Assert.Equal(new XhciRegisters().CapLength + offset, Declared(register));
        AssertWidth(Declared(register), width);
    }

    [Theory]
    [MemberData(nameof(PortRegisters))]
    public void Port_register_sets_repeat_at_0x400_plus_0x10_per_port(string register, ulong offset, int width)
    {
        var block = new XhciRegisters();
        Assert.Equal(offset, Declared(register));
        Assert.Equal(XhciRegisters.PortsOffset, block.CapLength + 0x400UL);
        Assert.Equal(0x10UL, XhciRegisters.PortsStride);
        for (int n = 0; n < XhciRegisters.PortsCount; n++) AssertWidth(XhciRegisters.PortsOffset + ((ulong)n * 0x10) + offset, width);
    }

    [Theory]
    [MemberData(nameof(InterrupterRegisters))]
    public void Interrupter_register_sets_repeat_at_RTSOFF_plus_0x20_plus_32_each(string register, ulong offset, int width)
    {
        var block = new XhciRegisters();
        Assert.Equal(offset, Declared(register));
        Assert.Equal(XhciRegisters.InterruptersOffset, block.RtsOff + 0x20UL);
        Assert.Equal(32UL, XhciRegisters.InterruptersStride);
        Assert.Equal(XhciRegisters.MfIndexOffset, block.RtsOff); // §5.5.1: MFINDEX at runtime base + 0
        for (int n = 0; n < XhciRegisters.InterruptersCount; n++) AssertWidth(XhciRegisters.InterruptersOffset + ((ulong)n * 32) + offset, width);
    }

    [Fact]
    public void HCSPARAMS1_advertises_the_declared_geometry_and_the_doorbell_array_sits_at_DBOFF()
    {
        var block = new XhciRegisters();
        Assert.Equal((uint)XhciRegisters.PortsCount, block.HcsParams1MaxPorts);            // §5.3.3 bits 31:24
        Assert.Equal((uint)XhciRegisters.InterruptersCount, block.HcsParams1MaxIntrs);     // bits 18:8
        Assert.Equal((uint)XhciRegisters.MaxSlots, block.HcsParams1MaxSlots);              // bits 7:0
        Assert.Equal(0x0820U | (8U << 24), block.HcsParams1);
        Assert.Equal((ushort)0x0120, block.HciVersion);
        Assert.Equal(0UL, block.RtsOff % 32);                                             // §5.3.8: 32-byte aligned
        // §5.6: one DWORD doorbell per slot, doorbell 0 the host controller's.
        DoorbellTable table = XhciRegisters.DoorbellTable;
        Assert.Equal(XhciRegisters.MaxSlots + 1, table.Count);
        for (int slot = 0; slot < table.Count; slot++)
        {
            Assert.Equal(block.DbOff + (4UL * (uint)slot), table[slot].Offset);
            Assert.Equal(4, table[slot].Width);
        }

        Assert.Equal((byte)3, XhciRegisters.DbTarget(0x0007_0003));
        Assert.Equal((ushort)7, XhciRegisters.DbStreamId(0x0007_0003));
    }

    [Fact]
    public void Reset_values_are_the_specifications()
    {
        var block = new XhciRegisters();
        Assert.True(block.UsbStsHch);                   // §5.4.2: HCH = 1 after reset (halted)
        Assert.Equal(1U, block.PageSize);               // §5.4.3: 4 KiB pages
        Assert.Equal(4000U, block.Interrupters[3].ImodImodi); // §5.5.2.2: IMODI = 4000 (1 ms)
        Assert.True(block.Ports[0].PortScPp);            // powered
        Assert.Equal(5U, block.Ports[7].PortScPls);      // RxDetect
    }

    private static readonly DoorbellWrite[] Writes = DoorbellSequence.Create(XhciRegisters.DoorbellTable, seed: 1305, writesPerRow: 4);

    [Theory]
    [InlineData(DoorbellBindingMode.Trap, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, false)]
    [InlineData(DoorbellBindingMode.GuestShadow, true)]
    public void Doorbells_bind_in_every_mode_and_port_and_interrupter_registers_dispatch_by_index(DoorbellBindingMode mode, bool attachGuestShadow)
    {
        RequireKvm.Present();

        Observation seen = Run(mode, attachGuestShadow);

        Assert.Equal(DoorbellSequence.ExpectedSignals(XhciRegisters.DoorbellTable, Writes), seen.Signals);
        Assert.Equal(DoorbellSequence.ExpectedLastValues(XhciRegisters.DoorbellTable, Writes), seen.LastValues);
        AssertRegisterTraffic(seen);
        // Guest-shadow mode without the guest's shadow page attached still traps (nothing to read the value from).
        if (mode == DoorbellBindingMode.Trap || !attachGuestShadow) Assert.Equal(Writes.Length, seen.TrappedWrites);
        else Assert.Equal(0, seen.TrappedWrites);
    }

    [Fact]
    public void Kernel_post_write_binds_the_doorbells_when_the_kernel_has_it_and_otherwise_is_refused_clearly()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        if (vm.SupportsIoEventFdPostWrite)
        {
            Observation seen = Run(DoorbellBindingMode.KernelPostWrite, attachGuestShadow: false);
            Assert.Equal(DoorbellSequence.ExpectedSignals(XhciRegisters.DoorbellTable, Writes), seen.Signals);
            Assert.Equal(DoorbellSequence.ExpectedLastValues(XhciRegisters.DoorbellTable, Writes), seen.LastValues);
            AssertRegisterTraffic(seen);
            return;
        }

        var error = Assert.Throws<KvmException>(() => DoorbellBinding.Create(vm, XhciRegisters.DoorbellTable, BlockGpa, DoorbellBindingMode.KernelPostWrite));
        Assert.Equal(KvmError.Unsupported, error.Error);
    }

    private const uint PortPmscValue = 0x0000_3F7F;
    private const uint ImanWritten = 0b11; // IP (write 1 to clear) and IE

    private static void AssertRegisterTraffic(Observation seen)
    {
        Assert.Equal(PortPmscValue, seen.Port5Pmsc);
        Assert.Equal(0U, seen.Port4Pmsc);
        Assert.Equal(0b10U, seen.Interrupter2Iman); // IP was set by the device and cleared by the guest's 1; IE set
        Assert.Equal(0x2A0U, seen.Port5ScSeenByGuest);
    }

    private sealed record Observation(ulong[] Signals, ulong[] LastValues, long TrappedWrites, uint Port4Pmsc, uint Port5Pmsc, uint Interrupter2Iman, uint Port5ScSeenByGuest);

    private static Observation Run(DoorbellBindingMode mode, bool attachGuestShadow)
    {
        DoorbellTable table = XhciRegisters.DoorbellTable;
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        DoorbellSequence.EmitWrites(a, table, BlockGpa, GuestShadowGpa, Writes);

        // Ordinary MMIO through the indexed dispatch: PORTPMSC of port 6 (element 5), IMAN of interrupter 2, a PORTSC read.
        a.mov(rbx, BlockGpa);
        a.mov(__dword_ptr[rbx + (int)(XhciRegisters.PortsOffset + (5 * XhciRegisters.PortsStride) + XhciRegisters.PortRegisterSet.PortPmscOffset)], PortPmscValue);
        a.mov(__dword_ptr[rbx + (int)(XhciRegisters.InterruptersOffset + (2 * XhciRegisters.InterruptersStride) + XhciRegisters.InterrupterRegisterSet.ImanOffset)], ImanWritten);
        a.mov(eax, __dword_ptr[rbx + (int)(XhciRegisters.PortsOffset + (5 * XhciRegisters.PortsStride) + XhciRegisters.PortRegisterSet.PortScOffset)]);
        a.mov(rcx, GuestShadowGpa + 0x2000);
        a.mov(__dword_ptr[rcx], eax);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var binding = DoorbellBinding.Create(guest.Vm, table, BlockGpa, mode);
        if (attachGuestShadow)
        {
            Assert.True(guest.Memory.TryGetShadowRegion(GuestShadowGpa, 4096, out var shadow));
            binding.AttachGuestShadow(shadow);
        }

        var device = new XhciRegisters();
        device.Interrupters[2].ImanIp = true; // an interrupt pending, for the guest to acknowledge
        var bus = new MmioBus();
        bus.Add(BlockGpa, device, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var counter = new DoorbellSignalCounter(events, source, table.Count);

        guest.RunToFinish(bus);
        ulong[] signals = counter.Stop();
        Assert.Equal(0, counter.OtherSourceEvents);

        var reader = new XhciRegisters.DoorbellReader(binding.Shadow);
        var last = new ulong[table.Count];
        for (int slot = 0; slot < table.Count; slot++) last[slot] = reader.Doorbell(slot);
        Assert.True(guest.Memory.TryRead(GuestShadowGpa + 0x2000, out uint portSc));
        return new Observation(signals, last, binding.TrappedWrites, device.Ports[4].PortPmsc, device.Ports[5].PortPmsc, device.Interrupters[2].Iman, portSc);
    }
}
