using System.Runtime.CompilerServices;

namespace ShadowIo.Binding;

public sealed partial class DoorbellBinding
{
    /// <summary>
    /// The VMM's MMIO-write exit handler for this block. For a doorbell this binding traps, stores
    /// the value (the doorbell's width) into <see cref="Shadow"/> and signals the row's eventfd,
    /// exactly as KVM would: returns true. Returns false, leaving the write to the device's
    /// dispatch, when the address is no trapped doorbell, or when KVM's ioeventfd itself would not
    /// have matched (wrong access size; a datamatch doorbell written with another value).
    /// No allocation; never throws for any guest input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryHandleMmioWrite(ulong gpa, int size, ulong value)
    {
        ulong offset = gpa - BlockGpa;
        if (gpa < BlockGpa || offset >= Table.BlockSize || !Table.TryFind(offset, out int row)) return false;
        if (!Volatile.Read(ref _trapped[row])) return false;
        ref readonly var e = ref Table[row];
        if (!IoEventFdMatch.Matches(e, size, value)) return false;
        if (e.Kind == DoorbellKind.Value) Volatile.Read(ref _state).Values.Write(e.ShadowOffset, size, value);
        BindingEventFd.Signal(_eventFds[row]);
        Interlocked.Increment(ref _trappedWrites);
        return true;
    }
}
