using ShadowIo.Binding;
using ShadowIo.Hosting;
using ShadowIo.Testing;
using ShadowIo.Devices.Storage;

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
internal sealed class ControllerHost : IControllerHost
{
    private readonly DoorbellEvents _events = new();
    private readonly DeviceRunner _runner;

    /// <exception cref="Kvm.KvmException">The mode needs a kernel feature this kernel lacks.</exception>
    public ControllerHost(TestGuest guest, IBlockStorage storage, ulong bar, DoorbellBindingMode bindingMode, bool polling, TimeSpan eventSpin, TimeSpan pollIdle)
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
            Controller.DoorbellBufferConfigured = pages => Binding.AttachGuestShadow(pages.Shadow);
            Controller.DoorbellBufferReleased = Binding.DetachGuestShadow;
        }
        Bus = new MmioBus();
        Bus.Add(bar, NvmeRegisters.BlockSize, Controller, Binding);
        _events.Add(Binding);

        // EventIdx mode polls the shadow tails and heads while the guest is busy and sleeps in
        // epoll after pollIdle without work; the other modes wait for each doorbell.
        Controller.IsPolling = polling;
        _runner = new DeviceRunner(Controller, _events, RunnerOptions(polling, eventSpin, pollIdle));
    }

    /// <summary>
    /// The controller thread's options in the workload, wherever the controller runs (here, or in
    /// the vfio-user device process, which must run it exactly as here for the figures to compare).
    /// </summary>
    public static DeviceRunnerOptions RunnerOptions(bool polling, TimeSpan eventSpin, TimeSpan pollIdle) => new()
    {
        Mode = polling ? DeviceRunnerMode.AdaptivePolling : DeviceRunnerMode.EventDriven,
        EventSpin = eventSpin,
        PollIdle = pollIdle,
        IdlePause = IdlePause.Spin,
        ThreadName = polling ? "nvme-poll" : "nvme-doorbells",
        DeviceName = "controller",
    };

    public NvmeController Controller { get; }

    public DoorbellBinding Binding { get; }

    public MmioBus Bus { get; }

    /// <summary>Doorbell events the controller thread received (eventfd signals, coalesced).</summary>
    public long DoorbellEvents => _runner.DoorbellEvents;

    /// <summary>EventIdx mode: how often the polling thread went idle and slept until a doorbell.</summary>
    public long Sleeps => _runner.Sleeps;

    public bool IsGuestShadowAttached => Binding.IsGuestShadowAttached;

    public string? LastEnableFailure => Controller.LastEnableFailure;

    /// <summary>Nothing to do: the controller's own <see cref="NvmeController.DoorbellBufferConfigured"/> attached the page, inside the command.</summary>
    public void DoorbellBufferConfigured(ShadowRegion guestShadow)
    {
    }

    /// <summary>Throws when the controller thread died or the controller caught one of its own bugs.</summary>
    public void CheckHealth()
    {
        if (_runner.TryGetFault(out string description, out var cause))
            throw cause is null ? new WorkloadException(description) : new WorkloadException(description, cause);
    }

    public void Dispose()
    {
        _runner.Dispose();
        _events.Dispose();
        // The controller first: its reset still writes doorbell rows into the binding's page.
        Controller.Dispose();
        Binding.Dispose();
    }
}
