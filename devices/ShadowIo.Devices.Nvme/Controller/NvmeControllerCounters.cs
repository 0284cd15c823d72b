namespace ShadowIo.Devices.Nvme;

/// <summary>
/// What the controller has done, for the demo's table and for the fuzzer's invariants. Updated
/// under the controller's lock; reads from other threads may be a moment stale, and may disagree
/// with each other: <see cref="NvmeController.ReadCommandAccounting"/> reads the command counters
/// together under the lock.
/// </summary>
public sealed class NvmeControllerCounters
{
    /// <summary>Submission entries read from guest memory.</summary>
    public long CommandsFetched { get; internal set; }

    /// <summary>Completion entries written (successfully or not) to completion queues.</summary>
    public long CompletionsPosted { get; internal set; }

    /// <summary>
    /// Fetched commands neither completed nor discarded yet. Commands execute as they are fetched,
    /// so between entry points only Asynchronous Event Requests are outstanding.
    /// </summary>
    public long CommandsOutstanding { get; internal set; }

    /// <summary>
    /// Outstanding commands that ended without a completion because a controller reset (section
    /// 3.7.2) or Delete I/O Submission Queue removed their queue; AERs included.
    /// </summary>
    public long CommandsDiscarded { get; internal set; }

    /// <summary>Of <see cref="CommandsDiscarded"/>, the Asynchronous Event Requests (they wait for an event, so a reset meets them).</summary>
    public long AsyncEventRequestsDiscarded { get; internal set; }

    /// <summary>
    /// Completions posted for a command identifier that was not outstanding on its submission
    /// queue: a command completed twice (a controller bug; must stay 0).
    /// </summary>
    public long DuplicateCompletions { get; internal set; }

    /// <summary>Commands fetched with an identifier already outstanding on the same queue (the guest broke section 4.2's uniqueness rule).</summary>
    public long CommandIdCollisions { get; internal set; }

    /// <summary>Completion entries that could not be written because the CQ left guest RAM.</summary>
    public long CompletionWriteFailures { get; internal set; }

    /// <summary>
    /// Interrupts requested from the host: one per completion queue per pass that posted to it, so
    /// completions per interrupt tell how much a pass batched.
    /// </summary>
    public long InterruptsRequested { get; internal set; }

    /// <summary>Doorbell writes ignored as invalid (no such queue, or value ≥ queue size).</summary>
    public long InvalidDoorbellWrites { get; internal set; }

    /// <summary>Doorbell notifications handled (MMIO dispatch or <see cref="NvmeController.ProcessDoorbell"/>).</summary>
    public long DoorbellsProcessed { get; internal set; }

    /// <summary>Shadow tails re-read after writing EventIdx that showed new work (the dbbuf race).</summary>
    public long ShadowRereadHits { get; internal set; }

    /// <summary>Asynchronous events posted to the host.</summary>
    public long AsyncEventsPosted { get; internal set; }

    /// <summary>Controller bugs caught at an entry point (must stay 0; each sets CSTS.CFS).</summary>
    public long InternalErrors { get; internal set; }

    /// <summary>Exceptions thrown by host callbacks (caught so guest processing continues).</summary>
    public long HostCallbackErrors { get; internal set; }
}
