using System.Runtime.CompilerServices;
using ShadowIo.Kvm;
using ShadowIo.Native;

namespace ShadowIo.Binding;

/// <summary>
/// Binds one generated register block's doorbells to a VM: a <see cref="DoorbellSet"/> (one
/// eventfd per doorbell row, a memfd-backed shadow page holding each value-doorbell's last
/// value in the block's shadow layout, the trap handler) plus whatever KVM registrations the
/// <see cref="Mode"/> needs. Consumers wait with <see cref="DoorbellEvents"/> and read values
/// from <see cref="Shadow"/> with the block's generated <c>DoorbellReader</c>: the same code for
/// every mode, and for every other transport built on <see cref="DoorbellSet"/>.
/// </summary>
/// <remarks>
/// Dispose deassigns every ioeventfd it registered, then disposes the set, which waits for
/// traps in flight on vCPU threads before it closes the eventfds and unmaps the page. The VM must
/// outlive the binding.
/// </remarks>
/// <example>
/// <code>
/// using var binding = DoorbellBinding.Create(vm, NvmeRegisters.DoorbellTable, bar0, DoorbellBindingMode.BestAvailable);
/// bus.Add(bar0, registers, binding);               // VMM thread: trapped doorbells go to the binding first
/// using var events = new DoorbellEvents();
/// int source = events.Add(binding);
/// Span&lt;DoorbellEvent&gt; fired = stackalloc DoorbellEvent[64];   // emulator thread:
/// int n = events.Wait(fired, -1);
/// var values = new NvmeRegisters.DoorbellReader(binding.Shadow);
/// foreach (var e in fired[..n]) { /* row e.Row rang e.Signals times; its value: values.SqTail(y) */ }
/// </code>
/// </example>
public sealed partial class DoorbellBinding : IDisposable
{
    private readonly KvmVm _vm;
    /// <summary>Per row: the KVM registration currently assigned, if any.</summary>
    private readonly IoEventFdRegistration?[] _assigned;
    /// <summary>Whether a guest shadow page is attached (guest-shadow mode).</summary>
    private bool _guestShadowAttached;
    private int _disposed;

    private DoorbellBinding(KvmVm vm, DoorbellSet doorbells, ulong blockGpa, DoorbellBindingMode mode)
    {
        _vm = vm;
        Doorbells = doorbells;
        BlockGpa = blockGpa;
        Mode = mode;
        _assigned = new IoEventFdRegistration?[doorbells.Table.Count];
    }

    /// <summary>
    /// Creates the eventfds and shadow page for the rows <paramref name="include"/> accepts (all by
    /// default) and registers what <paramref name="mode"/> needs.
    /// </summary>
    /// <exception cref="KvmException">
    /// <see cref="DoorbellBindingMode.KernelPostWrite"/> asked for on a kernel without it
    /// (<see cref="KvmError.Unsupported"/>), or KVM refused a registration.
    /// </exception>
    /// <exception cref="ArgumentException">A row of a hand-built table is malformed (see <see cref="DoorbellSet.Create(DoorbellTable, Func{DoorbellEntry, bool}?)"/>).</exception>
    public static DoorbellBinding Create(KvmVm vm, DoorbellTable table, ulong blockGpa, DoorbellBindingMode mode, Func<DoorbellEntry, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(table);
        CheckPlacement(table, blockGpa);
        var resolved = Resolve(vm, mode);
        return RegisterOrDispose(new DoorbellBinding(vm, DoorbellSet.Create(table, include, TrappedRows(resolved)), blockGpa, resolved));
    }

    /// <summary>
    /// Binds a set built elsewhere (a vfio-user client's <see cref="DoorbellSet.Adopt"/> over a
    /// server's eventfds and shadow memfd) the way <see cref="Create"/> binds its own: the same
    /// mode resolution, trapped rows and KVM registrations. Takes ownership of the set (disposed
    /// on failure too).
    /// </summary>
    internal static DoorbellBinding Bind(KvmVm vm, DoorbellSet doorbells, ulong blockGpa, DoorbellBindingMode mode)
    {
        ArgumentNullException.ThrowIfNull(doorbells);
        DoorbellBindingMode resolved;
        try
        {
            ArgumentNullException.ThrowIfNull(vm);
            CheckPlacement(doorbells.Table, blockGpa);
            resolved = Resolve(vm, mode);
            var trapped = TrappedRows(resolved);
            for (int row = 0; row < doorbells.Table.Count; row++)
                doorbells.SetTrapped(row, trapped(doorbells.Table[row]));
        }
        catch
        {
            doorbells.Dispose();
            throw;
        }
        return RegisterOrDispose(new DoorbellBinding(vm, doorbells, blockGpa, resolved));
    }

    private static void CheckPlacement(DoorbellTable table, ulong blockGpa)
    {
        if (blockGpa + table.BlockSize < blockGpa)
            throw new ArgumentOutOfRangeException(nameof(blockGpa), $"Block '{table.BlockName}' at 0x{blockGpa:x} (+0x{table.BlockSize:x}) wraps the address space.");
        if (table.AddressSpace == AddressSpace.Port && blockGpa + table.BlockSize > PortBus.PortSpaceSize)
            throw new ArgumentOutOfRangeException(nameof(blockGpa), $"Port I/O block '{table.BlockName}' at port 0x{blockGpa:x} (+0x{table.BlockSize:x}) runs past the 64 KiB port space.");
    }

    private static DoorbellBindingMode Resolve(KvmVm vm, DoorbellBindingMode mode) => mode switch
    {
        DoorbellBindingMode.BestAvailable => vm.SupportsIoEventFdPostWrite ? DoorbellBindingMode.KernelPostWrite : DoorbellBindingMode.GuestShadow,
        DoorbellBindingMode.KernelPostWrite when !vm.SupportsIoEventFdPostWrite => throw new KvmException(KvmError.Unsupported, Errno.EINVAL,
            "DoorbellBindingMode.KernelPostWrite: this kernel rejects KVM_IOEVENTFD_FLAG_POST_WRITE (EINVAL): the kernel post-write " +
            "patch is not applied. Use DoorbellBindingMode.BestAvailable, GuestShadow or Trap."),
        DoorbellBindingMode.KernelPostWrite or DoorbellBindingMode.GuestShadow or DoorbellBindingMode.Trap => mode,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown binding mode."),
    };

    /// <summary>
    /// Which rows the MMIO exit handler serves: all in trap mode; in guest-shadow mode the value
    /// doorbells until the guest names its shadow page (a wildcard ioeventfd would lose the
    /// value); none with kernel post-write.
    /// </summary>
    private static Func<DoorbellEntry, bool> TrappedRows(DoorbellBindingMode resolved) => resolved switch
    {
        DoorbellBindingMode.Trap => static _ => true,
        DoorbellBindingMode.GuestShadow => static e => e.Kind == DoorbellKind.Value,
        _ => static _ => false,
    };

    private static DoorbellBinding RegisterOrDispose(DoorbellBinding binding)
    {
        try
        {
            binding.Register();
            return binding;
        }
        catch
        {
            binding.Dispose();
            throw;
        }
    }

    /// <summary>The resolved mode; never <see cref="DoorbellBindingMode.BestAvailable"/>.</summary>
    public DoorbellBindingMode Mode { get; }

    /// <summary>The VM-less doorbells underneath: eventfds, shadow page, trap handler.</summary>
    public DoorbellSet Doorbells { get; }

    /// <summary>The block's doorbell table.</summary>
    public DoorbellTable Table => Doorbells.Table;

    /// <summary>Guest-physical address of the block's first byte (its first port for a port I/O block).</summary>
    public ulong BlockGpa { get; }

    /// <summary>
    /// Where the doorbells' current values are, in the block's shadow layout: the memfd shadow
    /// page, or the guest's shadow page once <see cref="AttachGuestShadow"/> ran.
    /// </summary>
    public ShadowRegion Shadow => Doorbells.Shadow;

    /// <summary>Whether a guest shadow page is attached (guest-shadow mode only).</summary>
    public bool IsGuestShadowAttached => Volatile.Read(ref _guestShadowAttached);

    /// <summary>The memfd behind the binding's own shadow page: hand it to another process to map.</summary>
    internal int ShadowFd => Doorbells.ShadowFd;

    /// <summary>The binding's own (memfd) shadow page, whatever is attached.</summary>
    public ShadowRegion ShadowPage => Doorbells.ShadowPage;

    /// <summary>Doorbell writes handled by <see cref="TryHandleMmioWrite"/> (exits to userspace).</summary>
    public long TrappedWrites => Doorbells.TrappedWrites;

    /// <summary>Whether <paramref name="row"/> was selected by the include filter.</summary>
    public bool IsBound(int row) => Doorbells.IsBound(row);

    /// <summary>The eventfd of <paramref name="row"/>, or -1 when the row is not bound (or after dispose).</summary>
    internal int EventFd(int row) => Doorbells.EventFdOf(row)?.Fd ?? -1;

    /// <summary>How many rows have an eventfd.</summary>
    public int BoundCount => Doorbells.BoundCount;

    /// <summary>How many KVM ioeventfds are registered right now.</summary>
    public int AssignedIoEventFds
    {
        get
        {
            int n = 0;
            foreach (var a in _assigned) if (a.HasValue) n++;
            return n;
        }
    }

    /// <summary>
    /// The VMM's MMIO-write exit handler for this block: <see cref="DoorbellSet.TryHandleWrite"/>
    /// at the offset within the block. True when a trapped doorbell took the write (value stored,
    /// eventfd signalled, exactly as KVM would); false leaves it to the device's dispatch (no
    /// doorbell, a row KVM serves, a write KVM's ioeventfd would not match, or a disposed
    /// binding). No allocation; never throws for any guest input, nor while another thread disposes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryHandleMmioWrite(ulong gpa, int size, ulong value) => TryHandleWriteAt(gpa, size, value);

    /// <summary>
    /// The VMM's port-output exit handler (<c>KVM_EXIT_IO</c>, direction out) for a port I/O
    /// block: exactly <see cref="TryHandleMmioWrite"/>, in the port space.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryHandlePortWrite(ushort port, int size, uint value) => TryHandleWriteAt(port, size, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryHandleWriteAt(ulong address, int size, ulong value)
    {
        ulong offset = address - BlockGpa;
        return address >= BlockGpa && offset < Table.BlockSize && Doorbells.TryHandleWrite(offset, size, value);
    }

    private void Register()
    {
        for (int row = 0; row < Table.Count; row++)
        {
            if (!Doorbells.IsBound(row)) continue;
            ref readonly var e = ref Table[row];
            bool isValue = e.Kind == DoorbellKind.Value;
            switch (Mode)
            {
                case DoorbellBindingMode.KernelPostWrite:
                    Assign(row, isValue ? Registration(row) with { PostAddress = ShadowPage.Address + e.ShadowOffset } : Registration(row));
                    break;
                case DoorbellBindingMode.GuestShadow:
                    // A notify doorbell carries no value: an ioeventfd loses nothing.
                    if (!isValue) Assign(row, Registration(row));
                    break;
            }
        }
    }

    /// <summary>The row's ioeventfd: exact width, datamatch when declared.</summary>
    private IoEventFdRegistration Registration(int row)
    {
        ref readonly var e = ref Table[row];
        return new IoEventFdRegistration(BlockGpa + e.Offset, e.Width, EventFd(row))
        {
            DataMatch = e.HasDataMatch ? e.DataMatch : null,
            IsPio = Table.AddressSpace == AddressSpace.Port,
        };
    }

    private void Assign(int row, IoEventFdRegistration registration)
    {
        _vm.AssignIoEventFd(registration);
        _assigned[row] = registration;
    }

    private void Deassign(int row)
    {
        if (_assigned[row] is { } r)
        {
            _vm.TryDeassignIoEventFd(r);
            _assigned[row] = null;
        }
    }

    /// <summary>
    /// Deassigns every ioeventfd (KVM matches deassignment by fd, so before the fds close), then
    /// disposes <see cref="Doorbells"/>, which waits for traps in flight.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        for (int row = 0; row < _assigned.Length; row++)
        {
            Doorbells.SetTrapped(row, false);
            Deassign(row);
        }
        Volatile.Write(ref _guestShadowAttached, false);
        Doorbells.Dispose();
    }
}
