using ShadowIo.Binding;
using ShadowIo.Qemu.Native;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu.Doorbells;

/// <summary>
/// Trap-mode doorbells for a transport without a VM: every doorbell write that arrives as a
/// BAR write is stored into a shadow page (memfd, in the block's shadow layout) and the
/// doorbell's eventfd is signalled — exactly what KVM's trap path does with an exit, so the
/// device consumes doorbells the same way whatever carried them: read the value from
/// <see cref="Shadow"/>, wait on the eventfds.
/// </summary>
/// <remarks>
/// Matching follows KVM ioeventfd rules so behaviour does not change between transports: the
/// access must start at the doorbell offset with exactly the doorbell's width, and a notify
/// doorbell with a datamatch only fires for that value. Anything else falls through to the
/// device's MMIO dispatch (its <c>OnDoorbellWritten</c> hook sees it).
/// </remarks>
public sealed class TrapDoorbells : IDisposable
{
    private readonly MemoryMapping _shadowPage;
    private readonly int[] _eventFds;
    private readonly EventFdSet _events = new();
    private long _trappedWrites;

    private TrapDoorbells(DoorbellTable table, MemoryMapping shadowPage, int[] eventFds)
    {
        Table = table;
        _shadowPage = shadowPage;
        _eventFds = eventFds;
        unsafe { Shadow = new ShadowRegion(shadowPage.Pointer, (int)shadowPage.Length); }
        for (int row = 0; row < eventFds.Length; row++)
            if (eventFds[row] >= 0) _events.Add(eventFds[row], row);
    }

    /// <summary>Binds the doorbells of <paramref name="table"/> (those <paramref name="include"/> accepts).</summary>
    public static TrapDoorbells Create(DoorbellTable table, Func<DoorbellEntry, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        var shadow = MemoryMapping.CreateMemfd($"shadowio-doorbells-{table.BlockName}", (ulong)Math.Max(table.ShadowSize, 1));
        var fds = new int[table.Count];
        Array.Fill(fds, -1);   // so a failure part-way closes only what was created
        try
        {
            foreach (ref readonly var entry in table.Entries) Validate(table, entry, shadow.Length);
            for (int row = 0; row < fds.Length; row++)
                fds[row] = include == null || include(table[row]) ? FileDescriptors.CreateEventFd() : -1;
        }
        catch
        {
            FileDescriptors.CloseAll(fds.Where(fd => fd >= 0).ToArray());
            shadow.Dispose();
            throw;
        }
        return new TrapDoorbells(table, shadow, fds);
    }

    /// <summary>
    /// Checked once here so that no guest write can reach a doorbell whose width or shadow slot
    /// would make <see cref="TryHandleWrite"/> throw inside the server loop (a hand-built table
    /// may be inconsistent; generated ones are not).
    /// </summary>
    private static void Validate(DoorbellTable table, in DoorbellEntry e, ulong shadowLength)
    {
        if (e.Width is not (1 or 2 or 4 or 8))
            throw new ArgumentException($"Doorbell '{e.Name}'[{e.Element}] of '{table.BlockName}' has width {e.Width}; it must be 1, 2, 4 or 8.", nameof(table));
        if (e.Kind == DoorbellKind.Value && (e.ShadowOffset < 0 || (ulong)e.ShadowOffset > shadowLength - (ulong)e.Width))
            throw new ArgumentException($"Doorbell '{e.Name}'[{e.Element}]'s shadow offset {e.ShadowOffset} lies outside the {shadowLength}-byte shadow page of '{table.BlockName}'.", nameof(table));
    }

    public DoorbellTable Table { get; }

    /// <summary>Where the latest doorbell values are, in the block's shadow layout.</summary>
    public ShadowRegion Shadow { get; }

    /// <summary>The memfd behind <see cref="Shadow"/>, shareable with another process.</summary>
    public int ShadowFd => _shadowPage.Fd;

    /// <summary>Doorbell writes handled here (not seen by the device's dispatch).</summary>
    public long TrappedWrites => Interlocked.Read(ref _trappedWrites);

    /// <summary>Whether row <paramref name="row"/> is bound.</summary>
    public bool IsBound(int row) => (uint)row < (uint)_eventFds.Length && _eventFds[row] >= 0;

    /// <summary>The eventfd signalled when doorbell row <paramref name="row"/> is written (non-blocking; -1 if unbound).</summary>
    public int GetEventFd(int row) => (uint)row < (uint)_eventFds.Length ? _eventFds[row] : -1;

    /// <summary>
    /// Handles a guest write at <paramref name="offset"/> in the block if it hits a bound doorbell
    /// the way KVM would match it; returns false so the caller dispatches it otherwise.
    /// </summary>
    public bool TryHandleWrite(ulong offset, int size, ulong value)
    {
        if (!Table.TryFind(offset, out int row) || _eventFds[row] < 0) return false;
        ref readonly var entry = ref Table[row];
        if (!IoEventFdMatch.Matches(entry, size, value)) return false;
        if (entry.Kind == DoorbellKind.Value)
            Shadow.Write(entry.ShadowOffset, entry.Width, value);
        Interlocked.Increment(ref _trappedWrites);
        FileDescriptors.SignalEventFd(_eventFds[row]);
        return true;
    }

    /// <summary>
    /// Blocks until doorbells fire (or the timeout, or <see cref="Wake"/>); stores the fired rows,
    /// with their eventfds drained, in <paramref name="rows"/> and returns how many. No allocation.
    /// </summary>
    public int Wait(Span<int> rows, int timeoutMilliseconds) => _events.Wait(rows, timeoutMilliseconds);

    /// <summary>Makes a blocked <see cref="Wait"/> return 0 (shutdown, or a mode change).</summary>
    public void Wake() => _events.Wake();

    /// <summary>Reads and clears row <paramref name="row"/>'s eventfd; true if it had fired.</summary>
    public bool TryConsume(int row) => IsBound(row) && FileDescriptors.DrainEventFd(_eventFds[row]);

    public void Dispose()
    {
        _events.Dispose();
        for (int i = 0; i < _eventFds.Length; i++)
        {
            if (_eventFds[i] >= 0) close(_eventFds[i]);
            _eventFds[i] = -1;
        }
        _shadowPage.Dispose();
    }
}
