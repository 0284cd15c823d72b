namespace ShadowIo.Devices.Nvme;

/// <summary>
/// What became of every command the controller fetched, read in one go under the controller's
/// lock (see <see cref="NvmeController.ReadCommandAccounting"/>) so the numbers agree.
/// </summary>
/// <param name="Fetched">Submission entries fetched.</param>
/// <param name="Completed">Completion entries posted.</param>
/// <param name="Outstanding">Fetched, neither completed nor discarded.</param>
/// <param name="OutstandingAsyncEventRequests">Of <paramref name="Outstanding"/>, AERs waiting for an event.</param>
/// <param name="Discarded">Ended without a completion by a controller reset or their queue's deletion.</param>
/// <param name="DiscardedAsyncEventRequests">Of <paramref name="Discarded"/>, AERs.</param>
/// <param name="DuplicateCompletions">Completions for an identifier not outstanding on its queue.</param>
/// <param name="CommandIdCollisions">Fetches whose identifier was already outstanding on the queue (a guest error).</param>
public readonly record struct CommandAccounting(
    long Fetched,
    long Completed,
    long Outstanding,
    long OutstandingAsyncEventRequests,
    long Discarded,
    long DiscardedAsyncEventRequests,
    long DuplicateCompletions,
    long CommandIdCollisions)
{
    /// <summary>
    /// Fetched commands other than AERs that never completed. An AER legitimately waits for an
    /// event and a reset may end it (section 5.2); every other command completes as it runs.
    /// </summary>
    public long NeverCompleted => Outstanding - OutstandingAsyncEventRequests + Discarded - DiscardedAsyncEventRequests;

    /// <summary>Fetched = completed + outstanding + discarded: every fetch is accounted for exactly once.</summary>
    public bool Balances => Fetched == Completed - DuplicateCompletions + Outstanding + Discarded;

    /// <summary>
    /// Why the books say a command was not completed exactly once, or null when every fetched
    /// command other than an AER completed once. A method, not a property: the record's
    /// <c>ToString</c> prints properties, and this text prints the record.
    /// </summary>
    public string? FindProblem()
    {
        var problems = new List<string>();
        if (NeverCompleted != 0) problems.Add($"{NeverCompleted} fetched command(s) never completed");
        if (DuplicateCompletions != 0) problems.Add($"{DuplicateCompletions} completion(s) for a command that was not outstanding (completed twice)");
        if (CommandIdCollisions != 0) problems.Add($"{CommandIdCollisions} command(s) fetched with an identifier already outstanding on their queue");
        if (!Balances) problems.Add("fetched ≠ completed + outstanding + discarded");
        return problems.Count == 0 ? null : string.Join("; ", problems) + $" ({this})";
    }
}
