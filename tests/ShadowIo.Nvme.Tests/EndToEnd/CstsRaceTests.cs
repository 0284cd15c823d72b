using System.Runtime.ExceptionServices;
using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Devices.Nvme;
using ShadowIo.Testing;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// The register-block concurrency contract on the real /dev/kvm: a CPL3 guest hammers NVMe CSTS
/// through MMIO exits (reads; NSSRO acknowledged with write-1-to-clear; full, 1-byte and 2-byte
/// writes of every bit but NSSRO, which change nothing but are read-modify-writes of the register)
/// while a device thread cycles the controller's RDY, CFS and SHST through the generated field
/// setters and raises NSSRO whenever the guest has acknowledged it. The device is the only writer
/// of RDY/CFS/SHST, so it knows their value at every step; NSSRO is handed over one way each
/// (device sets, guest clears), so raised = acknowledged + still set. No timing is asserted.
/// </summary>
public sealed class CstsRaceTests
{
    private const ulong Bar = 0xFE00_0000; // above the guest's RAM, inside its identity-mapped 4 GiB
    private const ulong Results = ShadowIo.Testing.GuestLayout.Data;
    private const int Iterations = 10_000;
    private const uint DeviceBits = NvmeRegisters.CstsFields.RdyMask | NvmeRegisters.CstsFields.CfsMask | NvmeRegisters.CstsFields.ShstMask;

    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Fact]
    public void Guest_csts_writes_racing_device_status_updates_lose_none()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        var registers = new NvmeRegisters();
        var bus = new MmioBus();
        bus.Add(Bar, NvmeRegisters.BlockSize, registers);
        guest.Load(HammerCsts());

        using var guestDone = new ManualResetEventSlim();
        long deviceLost = 0, raised = 0, steps = 0;
        bool ready = false, fatal = false;
        int shutdown = 0; // ShutdownStatus: Normal, Occurring, Complete
        uint Mine() => (ready ? NvmeRegisters.CstsFields.RdyMask : 0) | (fatal ? NvmeRegisters.CstsFields.CfsMask : 0)
            | ((uint)shutdown << NvmeRegisters.CstsFields.ShstShift);
        var device = new Thread(() =>
        {
            while (!guestDone.IsSet)
            {
                uint csts = registers.Csts;
                if ((csts & DeviceBits) != Mine())
                {
                    deviceLost++;
                    ready = registers.CstsRdy;
                    fatal = registers.CstsCfs;
                    shutdown = (int)registers.CstsShst;
                }

                if ((csts & NvmeRegisters.CstsFields.NssroMask) == 0)
                {
                    registers.CstsNssro = true; // an NVM subsystem reset occurred: the guest must acknowledge it
                    raised++;
                }

                // One field per step, through its setter; the guest never writes these bits.
                switch (steps++ % 3)
                {
                    case 0: registers.CstsRdy = ready = !ready; break;
                    case 1: registers.CstsCfs = fatal = !fatal; break;
                    default: registers.CstsShst = (ShutdownStatus)(shutdown = (shutdown + 1) % 3); break;
                }
            }
        }) { IsBackground = true, Name = "device" };

        GuestRunResult run;
        device.Start();
        try
        {
            run = guest.RunToFinish(bus, Bar, Iterations, Results);
        }
        finally
        {
            guestDone.Set();
            Assert.True(device.Join(Patience), "the device thread did not stop");
        }

        Assert.True(guest.Memory.TryRead(Results, out ulong acknowledged));
        uint final = registers.Csts;
        if ((final & DeviceBits) != Mine()) deviceLost++;
        long left = (final & NvmeRegisters.CstsFields.NssroMask) != 0 ? 1 : 0;
        string books =
            $"{Iterations} guest iterations ({run.MmioReads} MMIO reads, {run.MmioWrites} MMIO writes), {steps} device steps; " +
            $"device status updates lost {deviceLost}; NSSRO raised {raised} = acknowledged {acknowledged} + left {left}?";
        TestContext.Current.TestOutputHelper?.WriteLine(books);
        Assert.Equal(Iterations, run.MmioReads);
        Assert.Equal(4L * Iterations + (long)acknowledged, run.MmioWrites);
        Assert.True(deviceLost == 0 && raised == (long)acknowledged + left, books);
    }

    /// <summary>
    /// RDI = BAR0, RSI = iterations, RDX = where to store the number of NSSRO acknowledgements.
    /// Each iteration: read CSTS; if NSSRO is set, write it 1 (acknowledge); then write every bit
    /// but NSSRO as a dword, as byte 0, as byte 1 and as the upper word.
    /// </summary>
    private static Assembler HammerCsts()
    {
        const int csts = (int)NvmeRegisters.CstsOffset;
        var a = new Assembler(64);
        var loop = a.CreateLabel();
        var noAcknowledgement = a.CreateLabel();
        a.xor(r12, r12);
        a.Label(ref loop);
        a.mov(eax, __dword_ptr[rdi + csts]);
        a.test(eax, (int)NvmeRegisters.CstsFields.NssroMask);
        a.jz(noAcknowledgement);
        a.mov(ecx, (int)NvmeRegisters.CstsFields.NssroMask);
        a.mov(__dword_ptr[rdi + csts], ecx);
        a.inc(r12);
        a.Label(ref noAcknowledgement);
        a.mov(ecx, unchecked((int)~NvmeRegisters.CstsFields.NssroMask));
        a.mov(__dword_ptr[rdi + csts], ecx);
        a.mov(__byte_ptr[rdi + csts], cl);
        a.mov(__byte_ptr[rdi + csts + 1], cl);
        a.mov(__word_ptr[rdi + csts + 2], cx);
        a.dec(rsi);
        a.jnz(loop);
        a.mov(__qword_ptr[rdx], r12);
        TestGuest.EmitFinish(a);
        return a;
    }
}
