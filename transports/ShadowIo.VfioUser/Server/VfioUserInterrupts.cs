using ShadowIo.Native;
using ShadowIo.VfioUser.Channel;
using ShadowIo.VfioUser.Protocol;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Server;

/// <summary>
/// The served function's interrupts: the eventfds a vfio-user client handed over with SET_IRQS
/// (INTx, MSI-X vectors, the error and request notifiers) and what a device raises through them.
/// </summary>
/// <remarks>
/// <para>Modes follow VFIO's: assigning MSI-X eventfds (even none, QEMU's "enable with no
/// vectors") puts the function in MSI-X mode, and <see cref="Raise"/> signals the vector's eventfd;
/// disabling MSI-X (count 0) returns to INTx. There is no MSI capability, so MSI has no vectors.
/// QEMU emulates the MSI-X table and its masks itself and, without a KVM irqfd (TCG), watches
/// each vector's eventfd in its main loop and injects the message (hw/vfio/pci.c,
/// <c>vfio_msi_interrupt</c>).</para>
/// <para>INTx is automasked, as QEMU expects of vfio-user INTx (every BAR access is its EOI,
/// SET_IRQS INTX UNMASK): a raise signals the eventfd and masks the line; a raise while masked
/// is held and delivered on UNMASK.</para>
/// <para>Threading: <see cref="Raise"/> may run on any device thread while the server thread
/// applies SET_IRQS; one lock orders them, so a raise never signals a closed eventfd.</para>
/// </remarks>
public sealed class VfioUserInterrupts : IDisposable
{
    private readonly Lock _gate = new();
    private readonly EventFd?[][] _eventFds;
    private bool _msixMode;
    private bool _intxMasked;
    private bool _intxPending;
    private long _delivered;
    private long _held;
    private long _dropped;

    /// <param name="intx">Whether the function has an INTx pin.</param>
    /// <param name="msixVectors">MSI-X vectors (0: no MSI-X capability).</param>
    internal VfioUserInterrupts(bool intx, int msixVectors)
    {
        _eventFds = new EventFd?[IrqIndex.Count][];
        _eventFds[IrqIndex.Intx] = new EventFd?[intx ? 1 : 0];
        _eventFds[IrqIndex.Msi] = [];
        _eventFds[IrqIndex.Msix] = new EventFd?[msixVectors];
        _eventFds[IrqIndex.Err] = new EventFd?[1];
        _eventFds[IrqIndex.Req] = new EventFd?[1];
    }

    /// <summary>Whether the client put the function in MSI-X mode.</summary>
    public bool MsixMode
    {
        get { lock (_gate) return _msixMode; }
    }

    /// <summary>Whether an eventfd is assigned to MSI-X <paramref name="vector"/>.</summary>
    public bool HasMsixEventFd(int vector)
    {
        lock (_gate) return (uint)vector < (uint)_eventFds[IrqIndex.Msix].Length && _eventFds[IrqIndex.Msix][vector] != null;
    }

    /// <summary>Interrupts signalled to the client's eventfds.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>INTx raises held while the line was masked (delivered on unmask).</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Raises that found no eventfd (a vector the client has not enabled, or no INTx fd).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// The device signals <paramref name="vector"/>: in MSI-X mode that vector's eventfd, otherwise
    /// the INTx eventfd (automasked). Never throws; a vector without an eventfd is counted in
    /// <see cref="Dropped"/>.
    /// </summary>
    public void Raise(int vector)
    {
        lock (_gate)
        {
            if (_msixMode)
            {
                var vectors = _eventFds[IrqIndex.Msix];
                Deliver((uint)vector < (uint)vectors.Length ? vectors[vector] : null);
                return;
            }
            RaiseIntxLocked();
        }
    }

    /// <summary>Closes every eventfd the client handed over.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var index in _eventFds)
            {
                for (int i = 0; i < index.Length; i++)
                {
                    index[i]?.Dispose();
                    index[i] = null;
                }
            }
            _msixMode = false;
        }
    }

    /// <summary>GET_IRQ_INFO's answer for <paramref name="index"/>.</summary>
    internal IrqInfo Info(uint index)
    {
        var count = (uint)_eventFds[index].Length;
        var flags = count == 0 ? 0 : IrqInfoFlags.EventFd;
        if (index == IrqIndex.Intx && count != 0)
            flags |= IrqInfoFlags.Maskable | IrqInfoFlags.AutoMasked;
        return new IrqInfo(flags, index, count);
    }

    /// <summary>
    /// Applies a decoded SET_IRQS; <paramref name="fds"/> are the message's (taken only when the
    /// whole request is valid). Returns 0 or EINVAL with <paramref name="problem"/> saying why.
    /// </summary>
    internal int Apply(in IrqSetRequest request, ReadOnlySpan<byte> boolData, ReceivedFds fds, out string? problem)
    {
        problem = null;
        var vectors = _eventFds[request.Index];
        if (request.CheckRange((uint)vectors.Length) != 0)
        {
            problem = $"vectors {request.Start}..+{request.Count} of index {request.Index}, which has {vectors.Length}";
            return Errno.EINVAL;
        }
        switch (request.Action)
        {
            case IrqSetFlags.ActionTrigger when request.DataType == IrqSetFlags.DataEventFd:
                return AssignEventFds(request, fds, out problem);
            case IrqSetFlags.ActionTrigger:
                lock (_gate)
                {
                    if (request.Count == 0)
                    {
                        // DATA_NONE|TRIGGER, count 0: disable the index (VFIO's "count 0" rule).
                        CloseRange(vectors, 0, vectors.Length);
                        if (request.Index == IrqIndex.Msix) _msixMode = false;
                        if (request.Index == IrqIndex.Intx) _intxPending = _intxMasked = false;
                        return 0;
                    }
                    for (uint i = 0; i < request.Count; i++)
                    {
                        if (request.DataType == IrqSetFlags.DataBool && boolData[(int)i] == 0) continue;
                        if (request.Index == IrqIndex.Intx) RaiseIntxLocked();
                        else Deliver(vectors[request.Start + i]);
                    }
                    return 0;
                }
            default:
                // MASK / UNMASK: only INTx says MASKABLE; an eventfd-driven unmask (irqfd resampler) is not offered.
                if (request.Index != IrqIndex.Intx || request.DataType == IrqSetFlags.DataEventFd)
                {
                    problem = $"{request.Action} of index {request.Index} with {request.DataType}";
                    return Errno.EINVAL;
                }
                if (request.DataType == IrqSetFlags.DataBool && boolData[0] == 0) return 0;
                lock (_gate)
                {
                    if (request.Action == IrqSetFlags.ActionMask)
                    {
                        _intxMasked = true;
                        return 0;
                    }
                    _intxMasked = false;
                    if (_intxPending)
                    {
                        _intxPending = false;
                        RaiseIntxLocked();
                    }
                    return 0;
                }
        }
    }

    private int AssignEventFds(in IrqSetRequest request, ReceivedFds fds, out string? problem)
    {
        problem = null;
        // The decoder made sure there are no fds (de-assign) or exactly count of them; check them all before taking any.
        for (int i = 0; i < fds.Count; i++)
        {
            if (!FileDescriptors.IsEventFd(fds.Peek(i)))
            {
                problem = $"fd {i} is not an eventfd";
                return Errno.EINVAL;
            }
        }
        var vectors = _eventFds[request.Index];
        lock (_gate)
        {
            if (fds.Count == 0)
            {
                CloseRange(vectors, (int)request.Start, (int)request.Count);
            }
            else
            {
                for (int i = 0; i < fds.Count; i++)
                {
                    var eventFd = fds.TakeEventFd(i);
                    // Non-blocking, so a peer that saturates its own counter cannot block a device thread's write.
                    int fd = eventFd.Fd;
                    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
                    int vector = (int)request.Start + i;
                    vectors[vector]?.Dispose();
                    vectors[vector] = eventFd;
                }
            }
            if (request.Index == IrqIndex.Msix) _msixMode = true;
        }
        return 0;
    }

    private void RaiseIntxLocked()
    {
        var line = _eventFds[IrqIndex.Intx];
        if (line.Length == 0 || line[0] == null)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        if (_intxMasked)
        {
            _intxPending = true;
            Interlocked.Increment(ref _held);
            return;
        }
        _intxMasked = true;   // automasked: the client unmasks at its EOI
        Deliver(line[0]);
    }

    private void Deliver(EventFd? eventFd)
    {
        if (eventFd != null && eventFd.Signal()) Interlocked.Increment(ref _delivered);
        else Interlocked.Increment(ref _dropped);
    }

    private static void CloseRange(EventFd?[] vectors, int start, int count)
    {
        for (int v = start; v < start + count; v++)
        {
            vectors[v]?.Dispose();
            vectors[v] = null;
        }
    }
}
