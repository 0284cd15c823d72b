namespace ShadowIo;

/// <summary>
/// Rundown protection (the Windows kernel's ExAcquireRundownProtection, Linux's percpu_ref kill
/// pattern in miniature): short operations enter and exit; <see cref="WaitForRundown"/> stops new
/// entries and returns once every entered one has exited, after which the owner may free what
/// they use. No allocation, no lock; the operations it guards must be short and never block.
/// </summary>
internal struct RundownProtection
{
    private const int RundownBit = 1 << 30;
    private int _state;

    /// <summary>Enters unless rundown has begun; a true result must be paired with <see cref="Exit"/>.</summary>
    public bool TryEnter()
    {
        // Increment first, then look: a WaitForRundown that set the bit before our increment is
        // seen here (both are full fences), and one that sets it after waits for our Exit.
        if ((Interlocked.Increment(ref _state) & RundownBit) == 0) return true;
        Interlocked.Decrement(ref _state);
        return false;
    }

    /// <summary>Leaves an operation entered with <see cref="TryEnter"/>.</summary>
    public void Exit() => Interlocked.Decrement(ref _state);

    /// <summary>Whether rundown has begun (no new entries).</summary>
    public bool IsRunDown => (Volatile.Read(ref _state) & RundownBit) != 0;

    /// <summary>
    /// Refuses new entries from now on and spins (yielding) until the ones in flight exit.
    /// Returns false if rundown had already begun (another thread owns the release).
    /// </summary>
    public bool WaitForRundown()
    {
        if ((Interlocked.Or(ref _state, RundownBit) & RundownBit) != 0)
        {
            SpinUntilDrained();
            return false;
        }
        SpinUntilDrained();
        return true;
    }

    private void SpinUntilDrained()
    {
        var spin = new SpinWait();
        while ((Volatile.Read(ref _state) & ~RundownBit) != 0) spin.SpinOnce();
    }
}
