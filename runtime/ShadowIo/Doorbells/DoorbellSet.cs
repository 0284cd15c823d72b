using System.Runtime.CompilerServices;
using ShadowIo.Native;

namespace ShadowIo;

/// <summary>
/// A register block's doorbells without a VM: one eventfd per bound row of a
/// <see cref="DoorbellTable"/>, a memfd shadow page in the block's shadow layout, and the trap
/// handler that does what KVM does when an ioeventfd matches (store the value, then signal).
/// Every transport builds on it: the KVM <c>DoorbellBinding</c> (which adds KVM registrations),
/// a vfio-user server (region writes), the vfio-user client's trapped doorbells. Consumers wait with
/// <see cref="DoorbellEvents"/> and read values from <see cref="Shadow"/> with the block's
/// generated <c>DoorbellReader</c>: the same code whatever carried the write.
/// </summary>
/// <remarks>
/// <para>Threading: <see cref="TryHandleWrite"/> may run on any number of threads (vCPU threads,
/// a server thread) at once and concurrently with <see cref="Dispose"/>. It enters rundown
/// protection before it touches the page or an eventfd; Dispose stops new entries, waits for
/// the ones in flight, and only then closes the eventfds and unmaps the page. A trap racing
/// Dispose therefore either completes fully or returns false; it never writes an unmapped page,
/// never signals a closed (or reused) descriptor, and never throws.</para>
/// <para>Whoever reads <see cref="Shadow"/> must stop before disposing: the page goes with the set.</para>
/// </remarks>
public sealed class DoorbellSet : IDisposable
{
    private const int PageSize = 4096;

    private readonly EventFd?[] _eventFds;
    /// <summary>Per row: whether a write reaching <see cref="TryHandleWrite"/> is handled here.</summary>
    private readonly bool[] _trapped;
    private readonly MemoryMapping _shadowPage;
    /// <summary>Where trapped values go and consumers read; replaced whole (a 16-byte region cannot be swapped atomically).</summary>
    private ValueTarget _values;
    private RundownProtection _rundown;
    private long _trappedWrites;

    private sealed record ValueTarget(ShadowRegion Region)
    {
        public static readonly ValueTarget None = new(default(ShadowRegion));
    }

    private DoorbellSet(DoorbellTable table, MemoryMapping shadowPage, EventFd?[] eventFds, bool[] trapped, int requiredShadowLength, ulong? mappableOffset = null)
    {
        Table = table;
        MappableOffset = mappableOffset;
        _shadowPage = shadowPage;
        _eventFds = eventFds;
        _trapped = trapped;
        RequiredShadowLength = requiredShadowLength;
        unsafe { ShadowPage = new ShadowRegion(shadowPage.Pointer, (int)shadowPage.Length); }
        _values = new ValueTarget(ShadowPage);
        foreach (var fd in eventFds) if (fd != null) BoundCount++;
    }

    /// <summary>
    /// Creates the eventfds and the shadow page for the rows <paramref name="include"/> accepts
    /// (all by default), every bound row trapped.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A row of a hand-built table is malformed: width not 1, 2, 4 or 8, outside the block, or
    /// (value doorbells) a shadow slot outside the shadow page. Checked here so no guest write
    /// can make <see cref="TryHandleWrite"/> throw.
    /// </exception>
    public static DoorbellSet Create(DoorbellTable table, Func<DoorbellEntry, bool>? include = null) => Create(table, include, static _ => true);

    /// <summary>
    /// As <see cref="Create(DoorbellTable, Func{DoorbellEntry, bool}?)"/>, with the shadow page
    /// placed in its memfd where the doorbells are in the block: the file is laid out like the
    /// block (a hole up to the doorbell page, then the page), so a peer that maps the file at the
    /// doorbell page's block offset (a vfio-user server offering that page as a sparse mmap area,
    /// as SPDK's nvmf/vfio-user offers NVMe's BAR0 doorbells) has the guest's doorbell stores land
    /// straight in the shadow slots, with no exit, no message and no eventfd: the device then
    /// learns of them only by polling <see cref="Shadow"/>.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// As <see cref="Create(DoorbellTable, Func{DoorbellEntry, bool}?)"/>; or the block's shadow
    /// layout is not its doorbell area moved down to a page boundary (every value row at block
    /// offset = page offset + shadow offset, one page offset for all, page-aligned), the page does
    /// not fit the block, or a notify row lies in the page (its store would leave no trace).
    /// </exception>
    public static DoorbellSet CreateMappable(DoorbellTable table, Func<DoorbellEntry, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ulong pageOffset = MappablePageOffset(table, ShadowPageBytes(table));
        return Create(table, include, static _ => true, pageOffset);
    }

    /// <summary>As <see cref="Create(DoorbellTable, Func{DoorbellEntry, bool}?)"/>; <paramref name="trapped"/> decides each bound row's initial switch.</summary>
    internal static DoorbellSet Create(DoorbellTable table, Func<DoorbellEntry, bool>? include, Func<DoorbellEntry, bool> trapped) =>
        Create(table, include, trapped, null);

    private static DoorbellSet Create(DoorbellTable table, Func<DoorbellEntry, bool>? include, Func<DoorbellEntry, bool> trapped, ulong? mappableOffset)
    {
        ArgumentNullException.ThrowIfNull(table);
        int pageBytes = ShadowPageBytes(table);
        int required = 0;
        foreach (ref readonly var e in table.Entries)
        {
            Validate(table, e, pageBytes);
            if (e.Kind == DoorbellKind.Value) required = Math.Max(required, e.ShadowOffset + e.Width);
        }
        ValidateSharedAddresses(table);
        var eventFds = new EventFd?[table.Count];
        var trappedRows = new bool[table.Count];
        string name = $"shadowio-doorbells-{table.BlockName}";
        var page = mappableOffset is { } at
            ? MemoryMapping.CreateMemfdWindow(name, at + (ulong)pageBytes, at, (ulong)pageBytes)
            : MemoryMapping.CreateMemfd(name, (ulong)pageBytes);
        try
        {
            for (int row = 0; row < eventFds.Length; row++)
            {
                ref readonly var e = ref table[row];
                if (include != null && !include(e)) continue;
                eventFds[row] = EventFd.Create($"doorbell '{e.Name}'[{e.Element}] of '{table.BlockName}'");
                trappedRows[row] = trapped(e);
            }
        }
        catch
        {
            foreach (var fd in eventFds) fd?.Dispose();
            page.Dispose();
            throw;
        }
        return new DoorbellSet(table, page, eventFds, trappedRows, required, mappableOffset);
    }

    private static int ShadowPageBytes(DoorbellTable table) => Math.Max(PageSize, (table.ShadowSize + PageSize - 1) / PageSize * PageSize);

    /// <summary>
    /// Where the doorbell page starts in the block, when the shadow layout is the doorbell area
    /// moved down to it (NVMe's: SQ y tail at 0x1000 + 8y, shadow slot 8y, which is also Doorbell
    /// Buffer Config's layout); throws otherwise (see <see cref="CreateMappable"/>).
    /// </summary>
    private static ulong MappablePageOffset(DoorbellTable table, int pageBytes)
    {
        ulong? pageOffset = null;
        foreach (ref readonly var e in table.Entries)
        {
            if (e.Kind != DoorbellKind.Value) continue;
            if (e.ShadowOffset < 0 || (ulong)e.ShadowOffset > e.Offset)
                throw new ArgumentException($"Doorbell '{e.Name}'[{e.Element}] of '{table.BlockName}' has shadow offset {e.ShadowOffset} above its block offset 0x{e.Offset:x}: the shadow layout is not the doorbell area moved down.", nameof(table));
            ulong at = e.Offset - (ulong)e.ShadowOffset;
            if (pageOffset is { } first && first != at)
                throw new ArgumentException($"Doorbell '{e.Name}'[{e.Element}] of '{table.BlockName}' sits 0x{at:x} above its shadow slot; another sits 0x{first:x}: one page cannot hold both.", nameof(table));
            pageOffset = at;
        }
        if (pageOffset is not { } page)
            throw new ArgumentException($"Block '{table.BlockName}' has no value doorbell: a mapped page would carry nothing a poller could read.", nameof(table));
        if (page % PageSize != 0)
            throw new ArgumentException($"Block '{table.BlockName}''s doorbells start 0x{page:x} into the block, not on a page boundary: only whole pages can be mapped.", nameof(table));
        if (page > table.BlockSize || (ulong)pageBytes > table.BlockSize - page)
            throw new ArgumentException($"Block '{table.BlockName}' ({table.BlockSize} bytes) does not hold a {pageBytes}-byte doorbell page at 0x{page:x}.", nameof(table));
        foreach (ref readonly var e in table.Entries)
        {
            if (e.Kind == DoorbellKind.Notify && e.Offset >= page && e.Offset < page + (ulong)pageBytes)
                throw new ArgumentException($"Notify doorbell '{e.Name}'[{e.Element}] of '{table.BlockName}' lies in the mapped page at 0x{page:x}: a store there would raise nothing.", nameof(table));
        }
        return page;
    }

    /// <summary>
    /// A set over descriptors another process made (a vfio-user server's region IO fds): the
    /// given eventfds (null for an unbound row) and <paramref name="shadowPage"/>, a mapping of the
    /// peer's shadow memfd in which every value row's slot lies. Takes ownership of all of them
    /// (disposed on failure too). Trap writes store there and signal the peer's eventfds, exactly
    /// as a local set would.
    /// </summary>
    /// <exception cref="ArgumentException">A row is malformed or its shadow slot lies outside <paramref name="shadowPage"/>, or the counts disagree.</exception>
    internal static DoorbellSet Adopt(DoorbellTable table, MemoryMapping shadowPage, EventFd?[] eventFds, Func<DoorbellEntry, bool> trapped)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(table);
            ArgumentNullException.ThrowIfNull(shadowPage);
            if (eventFds.Length != table.Count)
                throw new ArgumentException($"{eventFds.Length} eventfds for the {table.Count} rows of '{table.BlockName}'.", nameof(eventFds));
            int pageBytes = (int)Math.Min(shadowPage.Length, int.MaxValue);
            int required = 0;
            var trappedRows = new bool[table.Count];
            for (int row = 0; row < table.Count; row++)
            {
                ref readonly var e = ref table[row];
                Validate(table, e, pageBytes);
                if (e.Kind == DoorbellKind.Value) required = Math.Max(required, e.ShadowOffset + e.Width);
                trappedRows[row] = eventFds[row] != null && trapped(e);
            }
            return new DoorbellSet(table, shadowPage, eventFds, trappedRows, required);
        }
        catch
        {
            foreach (var fd in eventFds) fd?.Dispose();
            shadowPage?.Dispose();
            throw;
        }
    }

    private static void Validate(DoorbellTable table, in DoorbellEntry e, int pageBytes)
    {
        if (e.Width is not (1 or 2 or 4 or 8))
            throw new ArgumentException($"Doorbell '{e.Name}'[{e.Element}] of '{table.BlockName}' has width {e.Width}; it must be 1, 2, 4 or 8.", nameof(table));
        if (e.Offset >= table.BlockSize || (ulong)e.Width > table.BlockSize - e.Offset)
            throw new ArgumentException($"Doorbell '{e.Name}'[{e.Element}] (offset 0x{e.Offset:x}, width {e.Width}) does not fit block '{table.BlockName}'.", nameof(table));
        if (e.Kind == DoorbellKind.Value && (e.ShadowOffset < 0 || e.ShadowOffset > pageBytes - e.Width))
            throw new ArgumentException($"Doorbell '{e.Name}'[{e.Element}]'s shadow offset {e.ShadowOffset} lies outside the {pageBytes}-byte shadow page of '{table.BlockName}'.", nameof(table));
    }

    /// <summary>
    /// Rows on one address must each have a datamatch, of one width, with distinct values: KVM
    /// refuses a second ioeventfd on an address and length unless both match distinct values
    /// (virt/kvm/eventfd.c, <c>ioeventfd_check_collision</c>: EEXIST), and a trap could not
    /// choose between two rows either. The generator enforces this (SHIO006, SHIO025, SHIO026);
    /// this catches a hand-built table.
    /// </summary>
    private static void ValidateSharedAddresses(DoorbellTable table)
    {
        for (int row = 0; row < table.Count; row++)
        {
            ref readonly var e = ref table[row];
            if (!table.TryFind(e.Offset, out int first) || first == row) continue;
            for (int earlier = first; earlier < row; earlier++)
            {
                ref readonly var d = ref table[earlier];
                if (d.Offset != e.Offset) continue;
                bool distinct = e.HasDataMatch && d.HasDataMatch && e.Width == d.Width && e.DataMatch != d.DataMatch;
                if (!distinct)
                    throw new ArgumentException($"Doorbells '{d.Name}'[{d.Element}] and '{e.Name}'[{e.Element}] of '{table.BlockName}' share offset 0x{e.Offset:x}; " +
                        "doorbells on one address must all have a datamatch, of one width, with distinct values.", nameof(table));
            }
        }
    }

    /// <summary>The block's doorbell table; rows are this set's row numbers.</summary>
    public DoorbellTable Table { get; }

    /// <summary>
    /// Where the doorbells' current values are, in the block's shadow layout: <see cref="ShadowPage"/>,
    /// unless a binding redirected trapped values to a guest shadow page.
    /// </summary>
    public ShadowRegion Shadow => Volatile.Read(ref _values).Region;

    /// <summary>The set's own (memfd) shadow page.</summary>
    public ShadowRegion ShadowPage { get; }

    /// <summary>The memfd behind <see cref="ShadowPage"/>: hand it to another process to map (-1 after dispose).</summary>
    internal int ShadowFd => _shadowPage.Fd;

    /// <summary>Where <see cref="ShadowPage"/> starts in <see cref="ShadowFd"/>: 0, or the doorbell page's block offset for a <see cref="CreateMappable"/> set.</summary>
    internal ulong ShadowFileOffset => MappableOffset ?? 0;

    /// <summary>
    /// For a <see cref="CreateMappable"/> set, the block offset of the doorbell page, which is also
    /// its offset in <see cref="ShadowFd"/> (<see cref="ShadowPageLength"/> bytes); null otherwise.
    /// </summary>
    internal ulong? MappableOffset { get; }

    /// <summary>The length of <see cref="ShadowPage"/> (whole pages).</summary>
    internal ulong ShadowPageLength => _shadowPage.Length;

    /// <summary>How many rows have an eventfd.</summary>
    public int BoundCount { get; }

    /// <summary>Doorbell writes handled by <see cref="TryHandleWrite"/>.</summary>
    public long TrappedWrites => Interlocked.Read(ref _trappedWrites);

    /// <summary>Whether <paramref name="row"/> was selected by the include filter.</summary>
    public bool IsBound(int row) => (uint)row < (uint)_eventFds.Length && _eventFds[row] != null;

    /// <summary>Whether a write to <paramref name="row"/> reaching <see cref="TryHandleWrite"/> is handled here.</summary>
    public bool IsTrapped(int row) => (uint)row < (uint)_trapped.Length && Volatile.Read(ref _trapped[row]);

    /// <summary>
    /// Reads and resets <paramref name="row"/>'s eventfd: how many signals were pending (0 when
    /// none, the row is unbound, or the set is disposed). For a consumer that polls one row;
    /// <see cref="DoorbellEvents"/> does this for every fired row.
    /// </summary>
    public ulong TakeSignals(int row) => (uint)row < (uint)_eventFds.Length && _eventFds[row] is { } fd ? fd.Drain() : 0;

    /// <summary>
    /// The trap handler: a guest wrote <paramref name="size"/> bytes of <paramref name="value"/>
    /// at <paramref name="offset"/> in the block. For a trapped row whose ioeventfd KVM would
    /// have matched (<see cref="IoEventFdMatch"/>: exact width, datamatch), stores the value (value
    /// doorbells) into <see cref="Shadow"/>, then signals the row's eventfd, and returns true.
    /// Returns false, leaving the write to the device's MMIO dispatch, for anything else, and
    /// after <see cref="Dispose"/> began. No allocation; never throws, whatever the guest wrote.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryHandleWrite(ulong offset, int size, ulong value)
    {
        // The row KVM would fire: of several on one address, the one whose datamatch the bytes equal.
        if (!Table.TryFind(offset, size, value, out int row) || !Volatile.Read(ref _trapped[row])) return false;
        ref readonly var e = ref Table[row];
        if (!_rundown.TryEnter()) return false;
        try
        {
            // Value first, then the signal: a consumer woken by the eventfd must find the value.
            if (e.Kind == DoorbellKind.Value) Volatile.Read(ref _values).Region.Write(e.ShadowOffset, size, value);
            _eventFds[row]!.Signal();
            Interlocked.Increment(ref _trappedWrites);
            return true;
        }
        finally
        {
            _rundown.Exit();
        }
    }

    /// <summary>The bytes a region standing in for <see cref="ShadowPage"/> must cover: the end of the last value slot.</summary>
    internal int RequiredShadowLength { get; }

    /// <summary>The row's eventfd, for a KVM registration or an epoll set; null when unbound.</summary>
    internal EventFd? EventFdOf(int row) => (uint)row < (uint)_eventFds.Length ? _eventFds[row] : null;

    /// <summary>Turns trapping of <paramref name="row"/> on or off (a binding moving a row to or from a KVM ioeventfd).</summary>
    internal void SetTrapped(int row, bool trapped)
    {
        if (IsBound(row)) Volatile.Write(ref _trapped[row], trapped);
    }

    /// <summary>
    /// Makes <paramref name="values"/> the region trapped values are stored into and consumers read
    /// (<see cref="ShadowPage"/> again when default). It must cover <see cref="RequiredShadowLength"/>.
    /// </summary>
    internal void RedirectValues(ShadowRegion values)
    {
        if (values.IsEmpty) values = ShadowPage;
        if (values.Length < RequiredShadowLength)
            throw new ArgumentException($"A {values.Length}-byte region cannot hold block '{Table.BlockName}''s doorbell values ({RequiredShadowLength} bytes).", nameof(values));
        Volatile.Write(ref _values, new ValueTarget(values));
    }

    /// <summary>
    /// Stops trapping (later writes return false), waits for traps in flight to finish, then
    /// closes every eventfd and unmaps the shadow page. Safe to call from any thread, any number
    /// of times, while traps run.
    /// </summary>
    public void Dispose()
    {
        if (!_rundown.WaitForRundown()) return;
        Volatile.Write(ref _values, ValueTarget.None);
        foreach (var fd in _eventFds) fd?.Dispose();
        _shadowPage.Dispose();
    }
}
