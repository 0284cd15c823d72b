using ShadowIo.Hosting;

namespace ShadowIo.Devices.Nvme;

/// <summary>
/// An NVMe controller with one namespace, polled completion queues and shadow doorbells.
/// </summary>
/// <remarks>
/// <para>How the host drives it:</para>
/// <list type="bullet">
/// <item>MMIO: put the controller (an <see cref="IMmioDevice"/>) on the bus at BAR0. Register
/// writes and doorbell writes that reach MMIO dispatch are handled at once on the calling
/// (vCPU) thread; a doorbell value arrives in the generated <c>OnDoorbellWritten</c> hook, is
/// stored in <see cref="DoorbellSource"/> and processed.</item>
/// <item>Bound doorbells: set <see cref="DoorbellSource"/> to the binding's <c>Shadow</c> and call
/// <see cref="ProcessDoorbell"/> with each fired row (from <c>DoorbellEvents.Wait</c>), or call
/// <see cref="Poll"/> from a polling thread (set <see cref="IsPolling"/>).</item>
/// <item>Guest shadow: when the guest sends Doorbell Buffer Config, <see cref="DoorbellBufferConfigured"/>
/// carries the validated pages; a KVM host in guest-shadow mode calls
/// <c>binding.AttachGuestShadow(pages.Shadow)</c> so value doorbells stop exiting, and
/// <see cref="DoorbellBufferReleased"/> (controller reset, a new config) detaches.
/// <see cref="DoorbellSource"/> stays the binding's own <c>ShadowPage</c>. From then on the
/// controller reads I/O queue doorbells from the guest's shadow page and keeps EventIdx itself;
/// the admin queue keeps its MMIO doorbells. The pages are the controller's protocol state, not
/// the binding's: Doorbell Buffer Config works the same with no binding at all (trap mode, a
/// transport serving the controller from another process), so the binding only learns where
/// values go.</item>
/// </list>
/// <para>Threading: MMIO comes from vCPU threads, doorbells from an event or polling thread. All
/// controller state is guarded by one lock, taken once per entry point (per doorbell batch, not
/// per command) and uncontended in the common case; host callbacks run under it and must not
/// block on another thread that calls into the controller. BAR0 register dispatch itself takes no
/// lock: each register update is atomic in the generated block (a guest CSTS write never erases a
/// CFS set here), and the CC hook takes the lock after the update.</para>
/// <para>Guest input is hostile: nothing a guest writes makes an entry point throw. Guest memory is
/// touched only through <see cref="GuestMemory"/>'s bounds-checked methods; a controller bug caught
/// at an entry point sets CSTS.CFS and counts in <see cref="NvmeControllerCounters.InternalErrors"/>.</para>
/// </remarks>
public sealed partial class NvmeController : IMmioDevice, IRegisterEvents, IDoorbellDevice, IDisposable
{
    /// <summary>The namespace's ID.</summary>
    public const uint NamespaceId = 1;

    private const int QueueCount = NvmeRegisters.QueueCount;

    private readonly Lock _gate = new();
    private readonly GuestMemory _memory;
    private readonly IBlockStorage _storage;
    private readonly NvmeControllerOptions _options;
    private readonly PrivateDoorbellPage _privatePage = new();
    private readonly SubmissionQueue?[] _submissionQueues = new SubmissionQueue?[QueueCount];
    private readonly CompletionQueue?[] _completionQueues = new CompletionQueue?[QueueCount];
    private readonly AsyncEvents _asyncEvents = new();
    private readonly ErrorLog _errorLog = new();
    private readonly FeatureSet _features = new();
    private readonly byte[] _buffer;
    private readonly byte[] _logPage = new byte[ErrorLog.Entries * ErrorLog.EntrySize];
    private readonly GuestSegment[] _segments;
    private readonly byte[] _namespaceUuid;
    private readonly ulong _blockCount;

    private ShadowRegion _doorbellSource;
    private NvmeRegisters.DoorbellReader _sourceReader;
    private bool _shutDown;
    private bool _disposed;
    private volatile bool _isPolling;

    /// <summary>A controller in reset (CC.EN = 0) over <paramref name="memory"/> with one namespace of <paramref name="storage"/>.</summary>
    /// <param name="memory">Guest RAM: the only memory the controller reads or writes for the guest.</param>
    /// <param name="storage">The namespace's backing store (owned by the caller).</param>
    /// <param name="options">Capabilities; defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is outside what the controller supports.</exception>
    /// <exception cref="ArgumentException"><paramref name="storage"/> holds no whole block.</exception>
    public NvmeController(GuestMemory memory, IBlockStorage storage, NvmeControllerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(storage);
        _options = options ?? new NvmeControllerOptions();
        _options.Validate();
        _memory = memory;
        _storage = storage;
        _blockCount = (ulong)storage.Length >> _options.LbaShift;
        if (_blockCount == 0) throw new ArgumentException($"Storage of {storage.Length} bytes holds no {1 << _options.LbaShift}-byte block.", nameof(storage));
        _buffer = new byte[Math.Max(_options.MaxTransferBytes, IdentifyData.Size)];
        _segments = new GuestSegment[PrpList.MaxSegments(_buffer.Length)];
        _namespaceUuid = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(_options.SerialNumber))[..16];
        _doorbellSource = _privatePage.Region;
        _sourceReader = new NvmeRegisters.DoorbellReader(_doorbellSource);
        Registers = new NvmeRegisters();
        Registers.Attach(this);
        ResetRegisterFile();
    }

    /// <summary>BAR0. Its MMIO dispatch is what <see cref="ReadMmio"/>/<see cref="WriteMmio"/> call.</summary>
    public NvmeRegisters Registers { get; }

    /// <summary>The doorbell table a binding registers (SQ y tail rows 0..16, CQ y head rows 17..33).</summary>
    public static DoorbellTable DoorbellTable => NvmeRegisters.DoorbellTable;

    /// <summary>The capabilities the controller was created with (what CAP and Identify report).</summary>
    public NvmeControllerOptions Options => _options;

    /// <summary>What the controller has done so far; see <see cref="NvmeControllerCounters"/> for how current a read is.</summary>
    public NvmeControllerCounters Counters { get; } = new();

    /// <summary>The command books (fetched, completed, outstanding, discarded), read under the controller lock.</summary>
    public CommandAccounting ReadCommandAccounting()
    {
        lock (_gate)
        {
            var c = Counters;
            return new CommandAccounting(
                c.CommandsFetched, c.CompletionsPosted, c.CommandsOutstanding, _asyncEvents.OutstandingRequests,
                c.CommandsDiscarded, c.AsyncEventRequestsDiscarded, c.DuplicateCompletions, c.CommandIdCollisions);
        }
    }

    /// <summary>Namespace size in logical blocks.</summary>
    public ulong BlockCount => _blockCount;

    /// <summary>Logical block size in bytes (512 or 4096, from <see cref="NvmeControllerOptions.LbaShift"/>).</summary>
    public int BlockSize => 1 << _options.LbaShift;

    /// <summary>
    /// Where the current MMIO doorbell values are (shadow layout): the controller's own page by
    /// default, or a binding's <c>Shadow</c>. Must cover <c>NvmeRegisters.ShadowLayout.Size</c> bytes.
    /// </summary>
    public ShadowRegion DoorbellSource
    {
        get { lock (_gate) return _doorbellSource; }
        set
        {
            var reader = new NvmeRegisters.DoorbellReader(value); // Throws for a region too short: a host error.
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _doorbellSource = value;
                _sourceReader = reader;
            }
        }
    }

    /// <summary>
    /// Set while a thread calls <see cref="Poll"/> continuously: EventIdx is then written so that a
    /// guest following Linux's rule never needs to ring an I/O doorbell.
    /// </summary>
    public bool IsPolling
    {
        get => _isPolling;
        set
        {
            lock (_gate)
            {
                if (_isPolling == value || _disposed) return;
                _isPolling = value;
                try
                {
                    RevalidateGuestPages();
                    if (!value) StopPolling();
                }
                catch (Exception e) when (RecordInternalError(e))
                {
                }
            }
        }
    }

    /// <summary>Raised (under the controller lock) when the guest's Doorbell Buffer Config is accepted.</summary>
    public Action<DoorbellBufferPages>? DoorbellBufferConfigured { get; set; }

    /// <summary>Raised (under the controller lock) when a controller reset ends guest-shadow mode.</summary>
    public Action? DoorbellBufferReleased { get; set; }

    /// <summary>
    /// Raised with a CQ's vector (CQs created with interrupts enabled) after a pass over a
    /// submission queue, or a delivery of asynchronous events, posted completions to it: once for
    /// all the pass posted.
    /// </summary>
    public Action<int>? InterruptRequested { get; set; }

    /// <summary>Whether the guest's shadow doorbell pages are in use.</summary>
    public bool IsDoorbellBufferActive { get; private set; }

    /// <summary>The last exception caught at an entry point (a controller bug), for diagnosis.</summary>
    public Exception? LastInternalError { get; private set; }

    long IDoorbellDevice.InternalErrors => Counters.InternalErrors;

    /// <summary>A guest read of BAR0 at <paramref name="offset"/> (<paramref name="size"/> bytes); undefined offsets read 0.</summary>
    public ulong ReadMmio(ulong offset, int size) => Registers.ReadMmio(offset, size);

    /// <summary>
    /// A guest write to BAR0: registers apply their access rules, CC changes enable, reset or shut
    /// down the controller, doorbells are processed at once (on the calling vCPU thread).
    /// </summary>
    public void WriteMmio(ulong offset, int size, ulong value) => Registers.WriteMmio(offset, size, value);

    /// <summary>
    /// The doorbell in <paramref name="row"/> of <see cref="DoorbellTable"/> was written: read its
    /// value from the current shadow and process the queue. Call from the event thread.
    /// </summary>
    public void ProcessDoorbell(int row)
    {
        lock (_gate)
        {
            try
            {
                if (_disposed) return;
                RevalidateGuestPages();
                HandleDoorbell(row);
            }
            catch (Exception e) when (RecordInternalError(e))
            {
            }
        }
    }

    /// <summary>
    /// Looks at every queue's current doorbell value and processes new work; returns the number
    /// of commands fetched. For a polling thread (eventidx mode with the guest rarely ringing).
    /// </summary>
    public int Poll()
    {
        lock (_gate)
        {
            long before = Counters.CommandsFetched;
            try
            {
                if (!_disposed)
                {
                    RevalidateGuestPages();
                    PollQueues();
                }
            }
            catch (Exception e) when (RecordInternalError(e))
            {
            }
            return (int)(Counters.CommandsFetched - before);
        }
    }

    void IRegisterEvents.OnDoorbellWritten(int row, uint value)
    {
        lock (_gate)
        {
            try
            {
                if (_disposed) return;
                RevalidateGuestPages();
                StoreMmioDoorbell(row, value);
                HandleDoorbell(row);
            }
            catch (Exception e) when (RecordInternalError(e))
            {
            }
        }
    }

    void IRegisterEvents.OnControllerConfigurationWritten(uint previous, uint value)
    {
        lock (_gate)
        {
            try
            {
                if (_disposed) return;
                RevalidateGuestPages();
                ApplyConfiguration(previous, value);
            }
            catch (Exception e) when (RecordInternalError(e))
            {
            }
        }
    }

    /// <summary>
    /// Stops the controller: later MMIO and doorbells are ignored. Neither the doorbell source nor
    /// host callbacks are touched (the host may already have disposed them); the storage stays the caller's.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Array.Clear(_submissionQueues);
            Array.Clear(_completionQueues);
            IsDoorbellBufferActive = false;
            _doorbellSource = default;
            _privatePage.Dispose();
        }
    }

    /// <summary>A controller bug: report Controller Fatal Status (the host resets) and keep going.</summary>
    private bool RecordInternalError(Exception e)
    {
        Counters.InternalErrors++;
        LastInternalError = e;
        Registers.CstsCfs = true;
        return true;
    }

    private void InvokeHost(Action? callback)
    {
        try
        {
            callback?.Invoke();
        }
        catch (Exception)
        {
            Counters.HostCallbackErrors++;
        }
    }

    private void InvokeHost<T>(Action<T>? callback, T argument)
    {
        try
        {
            callback?.Invoke(argument);
        }
        catch (Exception)
        {
            Counters.HostCallbackErrors++;
        }
    }

    // Introspection for tests and the fuzzer (same assembly or InternalsVisibleTo).

    /// <summary>
    /// Called with each command read from a submission queue, before it runs (under the lock): the
    /// fuzzer attributes every DMA and namespace access that follows to this command.
    /// </summary>
    internal CommandFetchedObserver? CommandFetched { get; set; }

    internal bool SubmissionQueueExists(int qid) => (uint)qid < QueueCount && _submissionQueues[qid] is not null;

    internal bool CompletionQueueExists(int qid) => (uint)qid < QueueCount && _completionQueues[qid] is not null;

    internal int SubmissionQueueHead(int qid) => _submissionQueues[qid]?.Head ?? -1;

    internal int SubmissionQueueTail(int qid) => _submissionQueues[qid]?.Tail ?? -1;

    internal int OutstandingAsyncEventRequests => _asyncEvents.OutstandingRequests;
}

/// <summary>See <see cref="NvmeController.CommandFetched"/>: the queue, the slot the entry came from, the entry as read.</summary>
internal delegate void CommandFetchedObserver(int sqId, int slot, in SubmissionEntry command);
