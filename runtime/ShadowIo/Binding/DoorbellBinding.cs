using ShadowIo.Kvm;

namespace ShadowIo.Binding;

/// <summary>
/// Binds one generated register block's doorbells to a VM: one eventfd per doorbell row, a
/// memfd-backed shadow page holding each value-doorbell's last value (in the block's shadow
/// layout), and whatever KVM registrations the <see cref="Mode"/> needs. Consumers wait with
/// <see cref="DoorbellEvents"/> and read values from <see cref="Shadow"/> with the block's
/// generated <c>DoorbellReader</c>: the same code for every mode.
/// </summary>
/// <remarks>
/// Dispose deassigns every ioeventfd it registered and closes every fd it opened. The VM must
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
    private const int PageSize = 4096;

    private readonly KvmVm _vm;
    private readonly int[] _eventFds;
    /// <summary>Per row: whether an MMIO exit for it is handled here (stored + signalled).</summary>
    private readonly bool[] _trapped;
    /// <summary>Per row: the KVM registration currently assigned, if any.</summary>
    private readonly IoEventFdRegistration?[] _assigned;
    private readonly MemoryMapping _shadowPage;
    private readonly ShadowRegion _shadowPageRegion;
    private ShadowState _state;
    private long _trappedWrites;
    private bool _disposed;

    /// <summary>Where values are read from now, and the EventIdx page beside a guest shadow.</summary>
    private sealed record ShadowState(ShadowRegion Values, ShadowRegion EventIdx, bool Attached);

    private unsafe DoorbellBinding(KvmVm vm, DoorbellTable table, ulong blockGpa, DoorbellBindingMode mode)
    {
        _vm = vm;
        Table = table;
        BlockGpa = blockGpa;
        Mode = mode;
        _eventFds = new int[table.Count];
        Array.Fill(_eventFds, -1);
        _trapped = new bool[table.Count];
        _assigned = new IoEventFdRegistration?[table.Count];
        int shadowBytes = Math.Max(PageSize, (table.ShadowSize + PageSize - 1) / PageSize * PageSize);
        _shadowPage = MemoryMapping.CreateMemfd($"shadowio-doorbells-{table.BlockName}", (ulong)shadowBytes);
        _shadowPageRegion = new ShadowRegion(_shadowPage.Pointer, shadowBytes);
        _state = new ShadowState(_shadowPageRegion, default, Attached: false);
    }

    /// <summary>
    /// Creates the eventfds and shadow page for the rows <paramref name="include"/> accepts (all by
    /// default) and registers what <paramref name="mode"/> needs.
    /// </summary>
    /// <exception cref="KvmException">
    /// <see cref="DoorbellBindingMode.KernelPostWrite"/> asked for on a kernel without it
    /// (<see cref="KvmError.Unsupported"/>), or KVM refused a registration.
    /// </exception>
    public static DoorbellBinding Create(KvmVm vm, DoorbellTable table, ulong blockGpa, DoorbellBindingMode mode, Func<DoorbellEntry, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(table);
        if (blockGpa + table.BlockSize < blockGpa)
            throw new ArgumentOutOfRangeException(nameof(blockGpa), $"Block '{table.BlockName}' at 0x{blockGpa:x} (+0x{table.BlockSize:x}) wraps the address space.");
        var resolved = mode switch
        {
            DoorbellBindingMode.BestAvailable => vm.SupportsIoEventFdPostWrite ? DoorbellBindingMode.KernelPostWrite : DoorbellBindingMode.GuestShadow,
            DoorbellBindingMode.KernelPostWrite when !vm.SupportsIoEventFdPostWrite => throw new KvmException(KvmError.Unsupported, Errnos.EINVAL,
                "DoorbellBindingMode.KernelPostWrite: this kernel rejects KVM_IOEVENTFD_FLAG_POST_WRITE (EINVAL): the kernel post-write " +
                "patch is not applied. Use DoorbellBindingMode.BestAvailable, GuestShadow or Trap."),
            DoorbellBindingMode.KernelPostWrite or DoorbellBindingMode.GuestShadow or DoorbellBindingMode.Trap => mode,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown binding mode."),
        };
        var binding = new DoorbellBinding(vm, table, blockGpa, resolved);
        try
        {
            binding.Bind(include);
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

    public DoorbellTable Table { get; }

    /// <summary>Guest-physical address of the block's first byte.</summary>
    public ulong BlockGpa { get; }

    /// <summary>
    /// Where the doorbells' current values are, in the block's shadow layout: the memfd shadow
    /// page, or the guest's shadow page once <see cref="AttachGuestShadow"/> ran.
    /// </summary>
    public ShadowRegion Shadow => Volatile.Read(ref _state).Values;

    /// <summary>The EventIdx page supplied with the guest shadow (empty when none is attached).</summary>
    public ShadowRegion EventIdx => Volatile.Read(ref _state).EventIdx;

    /// <summary>Whether a guest shadow page is attached (guest-shadow mode only).</summary>
    public bool IsGuestShadowAttached => Volatile.Read(ref _state).Attached;

    /// <summary>The memfd behind the binding's own shadow page: hand it to another process to map.</summary>
    public int ShadowFd => _shadowPage.Fd;

    /// <summary>The binding's own (memfd) shadow page, whatever is attached.</summary>
    public ShadowRegion ShadowPage => _shadowPageRegion;

    /// <summary>Doorbell writes handled by <see cref="TryHandleMmioWrite"/> (exits to userspace).</summary>
    public long TrappedWrites => Volatile.Read(ref _trappedWrites);

    /// <summary>Whether <paramref name="row"/> was selected by the include filter.</summary>
    public bool IsBound(int row) => (uint)row < (uint)_eventFds.Length && _eventFds[row] >= 0;

    /// <summary>The eventfd of <paramref name="row"/>, or -1 when the row is not bound (or after dispose).</summary>
    public int EventFd(int row) => (uint)row < (uint)_eventFds.Length ? Volatile.Read(ref _eventFds[row]) : -1;

    /// <summary>How many rows have an eventfd.</summary>
    public int BoundCount { get; private set; }

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

    private void Bind(Func<DoorbellEntry, bool>? include)
    {
        var entries = Table.Entries;
        for (int row = 0; row < entries.Length; row++)
        {
            ref readonly var e = ref entries[row];
            Validate(e);
            if (include != null && !include(e)) continue;
            _eventFds[row] = BindingEventFd.Create($"doorbell '{e.Name}'[{e.Element}] of '{Table.BlockName}'");
            BoundCount++;
            bool isValue = e.Kind == DoorbellKind.Value;
            switch (Mode)
            {
                case DoorbellBindingMode.Trap:
                    _trapped[row] = true;
                    break;
                case DoorbellBindingMode.KernelPostWrite:
                    Assign(row, isValue ? Registration(row) with { PostAddress = _shadowPageRegion.Address + e.ShadowOffset } : Registration(row));
                    break;
                case DoorbellBindingMode.GuestShadow:
                    // A notify doorbell carries no value: an ioeventfd loses nothing. Value doorbells
                    // trap until the guest names its shadow page (a wildcard ioeventfd loses the value).
                    if (isValue) _trapped[row] = true;
                    else Assign(row, Registration(row));
                    break;
            }
        }
    }

    private void Validate(in DoorbellEntry e)
    {
        if (e.Width is not (1 or 2 or 4 or 8) || e.Offset >= Table.BlockSize || (ulong)e.Width > Table.BlockSize - e.Offset)
            throw new ArgumentException($"Doorbell '{e.Name}'[{e.Element}] (offset 0x{e.Offset:x}, width {e.Width}) does not fit block '{Table.BlockName}'.");
        if (e.Kind == DoorbellKind.Value && (e.ShadowOffset < 0 || e.ShadowOffset > _shadowPageRegion.Length - e.Width))
            throw new ArgumentException($"Doorbell '{e.Name}'[{e.Element}]'s shadow offset {e.ShadowOffset} lies outside the {_shadowPageRegion.Length}-byte shadow page.");
    }

    /// <summary>The row's ioeventfd: exact width, datamatch when declared.</summary>
    private IoEventFdRegistration Registration(int row)
    {
        ref readonly var e = ref Table[row];
        return new IoEventFdRegistration(BlockGpa + e.Offset, e.Width, _eventFds[row])
        {
            DataMatch = e.HasDataMatch ? e.DataMatch : null,
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

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int row = 0; row < _eventFds.Length; row++)
        {
            Volatile.Write(ref _trapped[row], false);
            Deassign(row);
            int fd = _eventFds[row];
            Volatile.Write(ref _eventFds[row], -1);
            if (fd >= 0) Tmds.Linux.LibC.close(fd);
        }
        Volatile.Write(ref _state, new ShadowState(default, default, Attached: false));
        _shadowPage.Dispose();
    }
}
