namespace ShadowIo.Devices.Nvme;

/// <summary>
/// The command identifiers of one submission queue that were fetched and not yet completed:
/// what "every fetched command completes exactly once" is checked against.
/// </summary>
/// <remarks>
/// <para>A bit per possible command identifier (8 KiB a queue): fetch and completion are one
/// bit operation each, whatever the queue depth, so the check stays on in the product.</para>
/// <para>Section 4.2 (Submission Queue Entry, CDW0.CID) requires an identifier to be unique
/// among the queue's outstanding commands, but a guest may break that. A fetch whose identifier
/// is already outstanding is counted as a collision; the next completion of that identifier is
/// then matched against the collision, so the books stay exact (which of the two commands
/// completed cannot be told, by the host either).</para>
/// </remarks>
internal sealed class OutstandingCommands
{
    private readonly ulong[] _bits = new ulong[(ushort.MaxValue + 1) / 64];

    /// <summary>Per identifier, how many more commands than one are outstanding with it (only after a collision).</summary>
    private Dictionary<ushort, int>? _collisions;

    /// <summary>Fetched commands of this queue not yet completed (collisions included).</summary>
    public int Count { get; private set; }

    /// <summary>Records a fetched command; false when its identifier was already outstanding (a guest error).</summary>
    public bool Fetched(ushort commandId)
    {
        Count++;
        ref ulong word = ref _bits[commandId >> 6];
        ulong bit = 1ul << (commandId & 63);
        if ((word & bit) != 0)
        {
            _collisions ??= [];
            _collisions[commandId] = _collisions.GetValueOrDefault(commandId) + 1;
            return false;
        }
        word |= bit;
        return true;
    }

    /// <summary>Records a completion; false when no command with that identifier was outstanding (a second completion).</summary>
    public bool Completed(ushort commandId)
    {
        ref ulong word = ref _bits[commandId >> 6];
        ulong bit = 1ul << (commandId & 63);
        if ((word & bit) == 0) return false;
        Count--;
        if (_collisions is not null && _collisions.TryGetValue(commandId, out int more))
        {
            // The identifier stays outstanding for the other command that carries it.
            if (more == 1) _collisions.Remove(commandId);
            else _collisions[commandId] = more - 1;
        }
        else
        {
            word &= ~bit;
        }
        return true;
    }
}
