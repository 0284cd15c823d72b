using System.Diagnostics;
using ShadowIo.Binding;
using ShadowIo.Testing;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// The VMM side of one run: the NVMe controller on the guest's MMIO bus at BAR0, its I/O queue
/// doorbells bound through the runtime in the mode under test, and the controller's own thread
/// (the vCPU runs on the caller's thread; the machine has two cores).
/// </summary>
/// <remarks>
/// The admin queue's doorbells are left out of the binding: like Linux, the guest never puts
/// them in the Doorbell Buffer Config shadow page, so a wildcard ioeventfd would lose their value.
/// They reach the controller through MMIO dispatch on the vCPU thread, as QEMU handles them.
/// </remarks>
internal sealed class ControllerHost : IDisposable
{
    private readonly DoorbellEvents _events = new();
    private readonly Thread _thread;
    private readonly long _spinTicks;
    private readonly TimeSpan _pollIdle;
    private volatile bool _stopping;
    private volatile Exception? _threadFailure;

    /// <exception cref="Kvm.KvmException">The mode needs a kernel feature this kernel lacks.</exception>
    public ControllerHost(TestGuest guest, INamespaceStorage storage, ulong bar, DoorbellBindingMode bindingMode, bool polling, TimeSpan eventSpin, TimeSpan pollIdle)
    {
        Controller = new NvmeController(guest.Memory, storage);
        try
        {
            Binding = DoorbellBinding.Create(guest.Vm, NvmeController.DoorbellTable, bar, bindingMode, include: static e => e.Element != 0);
        }
        catch
        {
            Controller.Dispose();
            _events.Dispose();
            throw;
        }
        Controller.DoorbellSource = Binding.ShadowPage;
        if (Binding.Mode == DoorbellBindingMode.GuestShadow)
        {
            // Runs on the vCPU thread, inside the admin doorbell's MMIO exit: the guest is stopped.
            Controller.DoorbellBufferConfigured = pages => Binding.AttachGuestShadow(pages.Shadow, pages.EventIdx);
            Controller.DoorbellBufferReleased = Binding.DetachGuestShadow;
        }
        Bus = new MmioBus();
        Bus.Add(bar, NvmeRegisters.BlockSize, Controller, Binding);
        _events.Add(Binding);

        _spinTicks = (long)(eventSpin.TotalSeconds * Stopwatch.Frequency);
        _pollIdle = pollIdle;
        Controller.IsPolling = polling;
        _thread = new Thread(polling ? PollLoop : EventLoop) { IsBackground = true, Name = polling ? "nvme-poll" : "nvme-doorbells" };
        _thread.Start();
    }

    public NvmeController Controller { get; }

    public DoorbellBinding Binding { get; }

    public MmioBus Bus { get; }

    /// <summary>Doorbell events the controller thread received (eventfd signals, coalesced).</summary>
    public long DoorbellEvents { get; private set; }

    /// <summary>EventIdx mode: how often the polling thread went idle and slept until a doorbell.</summary>
    public long Sleeps { get; private set; }

    /// <summary>Throws when the controller thread died or the controller caught one of its own bugs.</summary>
    public void CheckHealth()
    {
        if (_threadFailure is { } failure)
            throw new WorkloadException($"the controller thread failed: {failure.GetType().Name}: {failure.Message}", failure);
        if (Controller.Counters.InternalErrors != 0)
            throw new WorkloadException($"the controller caught {Controller.Counters.InternalErrors} internal error(s); last: {Controller.LastInternalError?.Message}");
    }

    /// <summary>
    /// Event-driven: wait in epoll until doorbells fire, then process each fired row. After a
    /// doorbell the thread keeps asking epoll without sleeping for <see cref="_spinTicks"/> (the
    /// next doorbell of a busy queue usually follows within microseconds, and a wake-up from
    /// sleep costs more than that), then sleeps until the next one: adaptive busy polling of the
    /// same eventfds, as NAPI busy-poll and io_uring's SQPOLL idle period do.
    /// </summary>
    private void EventLoop()
    {
        Span<DoorbellEvent> fired = stackalloc DoorbellEvent[64];
        try
        {
            long lastEvent = 0;
            while (!_stopping)
            {
                bool spin = Stopwatch.GetTimestamp() - lastEvent < _spinTicks;
                int n = _events.Wait(fired, spin ? 0 : -1);
                if (n == 0) continue;
                for (int i = 0; i < n; i++) Controller.ProcessDoorbell(fired[i].Row);
                DoorbellEvents += n;
                lastEvent = Stopwatch.GetTimestamp();
            }
        }
        catch (Exception e)
        {
            _threadFailure = e;
        }
    }

    /// <summary>
    /// EventIdx mode: poll the shadow tails and heads while the guest is busy, and after
    /// <see cref="_pollIdle"/> without work sleep in epoll until a doorbell (see <see cref="AdaptivePolling"/>).
    /// </summary>
    private void PollLoop()
    {
        var fired = new DoorbellEvent[64];
        try
        {
            AdaptivePolling.Run(Controller, () => _stopping, _pollIdle, static () => Thread.SpinWait(16), () =>
            {
                // The next Poll picks up whatever rang: the fired rows need no handling of their own.
                Sleeps++;
                DoorbellEvents += _events.Wait(fired, -1);
            });
        }
        catch (Exception e)
        {
            _threadFailure = e;
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _events.Wake();
        _thread.Join();
        _events.Dispose();
        // The controller first: its reset still writes doorbell rows into the binding's page.
        Controller.Dispose();
        Binding.Dispose();
    }
}
