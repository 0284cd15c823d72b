using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Kvm.Native;

namespace ShadowIo.Testing;

/// <summary>
/// A one-vCPU KVM guest for testing devices: RAM at guest-physical 0, the low 4 GiB
/// identity-mapped with user pages, 64-bit long mode at CPL3 with IOPL = 3. Assemble code with
/// Iced, <see cref="Load(Assembler)"/> it, then <see cref="RunToFinish"/>: MMIO exits go
/// through an <see cref="MmioBus"/>, port I/O through <see cref="Ports"/>, until the guest executes <c>out</c> to
/// <see cref="GuestLayout.FinishPort"/> (emit it with <see cref="EmitFinish"/>).
/// </summary>
/// <example>
/// <code>
/// using var guest = TestGuest.Create();
/// var a = new Assembler(64);
/// a.mov(AssemblerRegisters.rbx, 0xFE00_1000UL);
/// a.mov(AssemblerRegisters.__dword_ptr[AssemblerRegisters.rbx], 5);
/// TestGuest.EmitFinish(a);
/// guest.Load(a);
/// var result = guest.RunToFinish(bus);
/// </code>
/// </example>
/// <remarks>
/// Owns its VM, vCPU and RAM (and the <see cref="KvmSystem"/> when <see cref="Create(ulong)"/>
/// opened it). Use from one thread at a time: the vCPU runs on the calling thread. Needs
/// read/write access to /dev/kvm; without it the factory throws <see cref="KvmException"/>.
/// </remarks>
public sealed class TestGuest : IDisposable
{
    private readonly KvmSystem _kvm;
    private readonly bool _ownsKvm;
    private readonly MemoryMapping _ram;
    private readonly KvmSregs _entrySregs;

    private TestGuest(KvmSystem kvm, bool ownsKvm, ulong ramSize)
    {
        _kvm = kvm;
        _ownsKvm = ownsKvm;
        try
        {
            Vm = kvm.CreateVm();
            // memfd-backed, so a vfio-user client can share it with a device in another process (DMA_MAP with the fd).
            _ram = MemoryMapping.CreateMemfd("shadowio-test-guest-ram", ramSize);
            Vm.SetMemoryRegion(0, 0, _ram);
            LongModeCpl3.WritePageTables(Vm.GuestMemory);
            Vcpu = Vm.CreateVcpu(0);
            Vcpu.SetCpuid(kvm.GetSupportedCpuid());
            var sregs = Vcpu.GetSpecialRegisters();
            LongModeCpl3.Apply(ref sregs);
            _entrySregs = sregs;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Builds a guest with <paramref name="ramSize"/> bytes of RAM, opening /dev/kvm: at least
    /// <see cref="GuestLayout.Data"/> + <see cref="GuestLayout.StackSize"/>, at most
    /// <see cref="GuestLayout.MappedLimit"/> (4 GiB), a multiple of the page size.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ramSize"/> is outside those bounds.</exception>
    /// <exception cref="KvmException">KVM is missing, not permitted, or refused the VM.</exception>
    public static TestGuest Create(ulong ramSize) => Create(KvmSystem.Open(), ramSize, ownsKvm: true);

    /// <summary>Builds a guest with <see cref="GuestLayout.DefaultRamSize"/> bytes of RAM (4 MiB), opening /dev/kvm.</summary>
    /// <exception cref="KvmException">KVM is missing, not permitted, or refused the VM.</exception>
    public static TestGuest Create() => Create(GuestLayout.DefaultRamSize);

    /// <summary>Builds a guest on an already open <see cref="KvmSystem"/> (not disposed with the guest); RAM bounds as <see cref="Create(ulong)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ramSize"/> is outside the bounds.</exception>
    /// <exception cref="KvmException">KVM refused the VM, its memory or its vCPU.</exception>
    public static TestGuest Create(KvmSystem kvm, ulong ramSize = GuestLayout.DefaultRamSize) => Create(kvm, ramSize, ownsKvm: false);

    private static TestGuest Create(KvmSystem kvm, ulong ramSize, bool ownsKvm)
    {
        if (ramSize < GuestLayout.Data + GuestLayout.StackSize || ramSize > GuestLayout.MappedLimit)
        {
            if (ownsKvm) kvm.Dispose();
            throw new ArgumentOutOfRangeException(nameof(ramSize), ramSize,
                $"Test-guest RAM must be between 0x{GuestLayout.Data + GuestLayout.StackSize:x} and 0x{GuestLayout.MappedLimit:x} bytes.");
        }
        return new TestGuest(kvm, ownsKvm, ramSize);
    }

    /// <summary>The KVM system the guest was created on.</summary>
    public KvmSystem Kvm => _kvm;

    /// <summary>The guest's VM: bind doorbells to it, or add memory slots above <see cref="RamSize"/>.</summary>
    public KvmVm Vm { get; } = null!;

    /// <summary>The guest's only vCPU (id 0); <see cref="RunToFinish"/> and <see cref="Resume"/> run it on the calling thread.</summary>
    public KvmVcpu Vcpu { get; } = null!;

    /// <summary>Guest RAM, bounds-checked.</summary>
    public GuestMemory Memory => Vm.GuestMemory;

    /// <summary>Bytes of RAM, mapped at guest-physical 0 (memory slot 0).</summary>
    public ulong RamSize => _ram.Length;

    /// <summary>Initial RSP: the end of RAM.</summary>
    public ulong StackTop => _ram.Length;

    /// <summary>The vCPU's registers now (after a run: where the guest finished).</summary>
    public KvmRegs Registers
    {
        get => Vcpu.GetRegisters();
        set => Vcpu.SetRegisters(value);
    }

    /// <summary>Assembles <paramref name="assembler"/>'s code for <see cref="GuestLayout.Code"/> and copies it there.</summary>
    public void Load(Assembler assembler)
    {
        ArgumentNullException.ThrowIfNull(assembler);
        using var stream = new MemoryStream();
        assembler.Assemble(new StreamCodeWriter(stream), GuestLayout.Code);
        Load(stream.GetBuffer().AsSpan(0, (int)stream.Length));
    }

    /// <summary>Copies machine code to <see cref="GuestLayout.Code"/>.</summary>
    public void Load(ReadOnlySpan<byte> code)
    {
        if ((ulong)code.Length > GuestLayout.CodeSize || !Memory.TryWrite(GuestLayout.Code, code))
            throw new ArgumentException($"{code.Length} bytes of code do not fit the 0x{GuestLayout.CodeSize:x}-byte code area.", nameof(code));
    }

    /// <summary>Emits the finish marker: <c>out 0x80, al</c> (AL becomes <see cref="GuestRunResult.FinishValue"/>).</summary>
    public static void EmitFinish(Assembler assembler)
    {
        ArgumentNullException.ThrowIfNull(assembler);
        assembler.@out((byte)GuestLayout.FinishPort, AssemblerRegisters.al);
    }

    /// <summary>
    /// Resets the vCPU to the entry state (RIP = <see cref="GuestLayout.Code"/>, RSP =
    /// <see cref="StackTop"/>, IOPL 3, CPL3 long mode), puts <paramref name="arguments"/> in RDI,
    /// RSI, RDX, RCX, R8, R9 (System V order), and runs until the finish marker. MMIO exits go
    /// through <paramref name="bus"/>: writes to a range with a doorbell binding reach the binding
    /// first (the trap path), everything else the device's dispatch. Reads of unmapped MMIO
    /// return all ones and unmapped writes are dropped (counted, not fatal: a hostile guest may
    /// do that); port I/O goes through <see cref="Ports"/> by the same rules. Any other exit throws <see cref="GuestExitException"/>.
    /// </summary>
    public GuestRunResult RunToFinish(MmioBus bus, params ReadOnlySpan<ulong> arguments)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ResetToEntry(arguments);
        return Resume(bus);
    }

    /// <summary>
    /// The first half of <see cref="RunToFinish"/>: the entry state and arguments, without running
    /// (so a benchmark can time <see cref="Resume"/> alone).
    /// </summary>
    public void ResetToEntry(params ReadOnlySpan<ulong> arguments)
    {
        if (arguments.Length > 6) throw new ArgumentException("At most six register arguments (RDI, RSI, RDX, RCX, R8, R9).", nameof(arguments));
        Vcpu.SetSpecialRegisters(_entrySregs);
        var regs = new KvmRegs { Rip = GuestLayout.Code, Rsp = StackTop, Rflags = LongModeCpl3.Rflags };
        for (int i = 0; i < arguments.Length; i++)
        {
            switch (i)
            {
                case 0: regs.Rdi = arguments[i]; break;
                case 1: regs.Rsi = arguments[i]; break;
                case 2: regs.Rdx = arguments[i]; break;
                case 3: regs.Rcx = arguments[i]; break;
                case 4: regs.R8 = arguments[i]; break;
                case 5: regs.R9 = arguments[i]; break;
            }
        }
        Vcpu.SetRegisters(regs);
    }

    /// <summary>
    /// Runs the vCPU from wherever it is until the finish marker (the second half of
    /// <see cref="RunToFinish"/>). The loop allocates nothing per exit.
    /// </summary>
    public GuestRunResult Resume(MmioBus bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        return RunLoop(bus);
    }

    /// <summary>
    /// The guest's port space: map port I/O blocks here (<see cref="PortBus.Add{TBlock}"/>) and the
    /// run loop serves <c>in</c>/<c>out</c> (string forms included) through it, a binding's
    /// trapped doorbells first. An unclaimed port reads all ones and ignores writes (counted in
    /// <see cref="GuestRunResult.UnmappedAccesses"/>). <see cref="GuestLayout.FinishPort"/> is
    /// the harness's own and is never looked up here.
    /// </summary>
    public PortBus Ports { get; } = new();

    /// <summary>The vCPU loop: no allocation per exit.</summary>
    private GuestRunResult RunLoop(MmioBus bus)
    {
        long exits = 0, reads = 0, writes = 0, unmapped = 0, portIn = 0, portOut = 0;
        var vcpu = Vcpu;
        var ports = Ports;
        while (true)
        {
            var exit = vcpu.Run();
            switch (exit.Kind)
            {
                case VcpuExitKind.MmioWrite:
                    exits++;
                    writes++;
                    if (!bus.TryWrite(exit.Address, exit.Size, exit.Data)) unmapped++;
                    break;
                case VcpuExitKind.MmioRead:
                    exits++;
                    reads++;
                    if (!bus.TryRead(exit.Address, exit.Size, out ulong value))
                    {
                        unmapped++;
                        value = ulong.MaxValue;
                    }
                    vcpu.CompleteMmioRead(value);
                    break;
                case VcpuExitKind.IoOut when exit.Address == GuestLayout.FinishPort:
                    exits++;
                    return new GuestRunResult(exits, reads, writes, unmapped, exit.Data) { PortInputs = portIn, PortOutputs = portOut };
                case VcpuExitKind.IoOut:
                    exits++;
                    portOut++;
                    unmapped += ServePortOutput(ports, (ushort)exit.Address, exit.Size, vcpu.IoData);
                    break;
                case VcpuExitKind.IoIn:
                    exits++;
                    portIn++;
                    unmapped += ServePortInput(ports, (ushort)exit.Address, exit.Size, vcpu.IoData);
                    break;
                case VcpuExitKind.Interrupted:
                    break;
                default:
                    throw new GuestExitException(exit, SafeRip(), Hint(exit));
            }
        }
    }

    /// <summary>Each element of an <c>out</c>/<c>outs</c> to the port bus; returns how many no device took.</summary>
    private static int ServePortOutput(PortBus ports, ushort port, int size, ReadOnlySpan<byte> data)
    {
        int unmapped = 0;
        for (int at = 0; at + size <= data.Length; at += size)
            if (!ports.TryOut(port, size, ReadElement(data.Slice(at, size)))) unmapped++;
        return unmapped;
    }

    /// <summary>Each element of an <c>in</c>/<c>ins</c> from the port bus (all ones where no device answers); returns how many.</summary>
    private static int ServePortInput(PortBus ports, ushort port, int size, Span<byte> data)
    {
        int unmapped = 0;
        for (int at = 0; at + size <= data.Length; at += size)
        {
            if (!ports.TryIn(port, size, out uint value))
            {
                unmapped++;
                value = uint.MaxValue;
            }
            WriteElement(data.Slice(at, size), value);
        }
        return unmapped;
    }

    private static uint ReadElement(ReadOnlySpan<byte> element) => element.Length switch
    {
        1 => element[0],
        2 => System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(element),
        _ => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(element),
    };

    private static void WriteElement(Span<byte> element, uint value)
    {
        switch (element.Length)
        {
            case 1: element[0] = (byte)value; break;
            case 2: System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(element, (ushort)value); break;
            default: System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(element, value); break;
        }
    }

    private ulong SafeRip()
    {
        try { return Vcpu.GetRegisters().Rip; }
        catch (KvmException) { return 0; }
    }

    private static string Hint(VcpuExit exit) => exit.Kind switch
    {
        VcpuExitKind.Shutdown => "The guest took a fault it could not deliver (no IDT at CPL3): check its addresses are below 4 GiB and in RAM or a bus range.",
        VcpuExitKind.Hlt => "HLT is privileged at CPL3 on hardware; end test code with TestGuest.EmitFinish instead.",
        VcpuExitKind.FailEntry => "KVM could not enter the guest: the CPU state is invalid for this host.",
        _ => "",
    };

    /// <summary>Closes the vCPU and VM and unmaps the RAM (and closes the KVM system if the guest opened it).</summary>
    public void Dispose()
    {
        Vcpu?.Dispose();
        Vm?.Dispose();
        _ram?.Dispose();
        if (_ownsKvm) _kvm.Dispose();
    }
}
