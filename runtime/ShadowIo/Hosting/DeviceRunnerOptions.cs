namespace ShadowIo.Hosting;

/// <summary>How <see cref="DeviceRunner"/>'s thread waits for doorbells.</summary>
public enum DeviceRunnerMode
{
    /// <summary>
    /// Sleep in <see cref="DoorbellEvents.Wait"/> and hand each fired row to
    /// <see cref="IDoorbellDevice.ProcessDoorbell"/>; after a doorbell, keep asking without
    /// sleeping for <see cref="DeviceRunnerOptions.EventSpin"/> (the next doorbell of a busy queue
    /// usually follows within microseconds, and a wake-up from sleep costs more than that): NAPI
    /// busy-poll, io_uring's SQPOLL idle period.
    /// </summary>
    EventDriven,

    /// <summary>
    /// Call <see cref="IDoorbellDevice.Poll"/> while the guest keeps the device busy, with
    /// <see cref="IDoorbellDevice.IsPolling"/> set; after <see cref="DeviceRunnerOptions.PollIdle"/>
    /// without work, clear it, poll once more, and only then sleep until a doorbell (SPDK's
    /// interrupt-mode handshake, and QEMU's: no ring is lost between the last look and the sleep).
    /// </summary>
    AdaptivePolling,
}

/// <summary>What the runner does between two looks while idle but not yet asleep (adaptive polling).</summary>
public enum IdlePause
{
    /// <summary>Spin briefly (<see cref="Thread.SpinWait"/>): lowest latency, holds the core.</summary>
    Spin,

    /// <summary>Yield the core (<see cref="Thread.Yield"/>): for hosts whose vCPUs share the cores with the runner.</summary>
    Yield,
}

/// <summary>Settings of a <see cref="DeviceRunner"/>.</summary>
public sealed record DeviceRunnerOptions
{
    /// <summary>How the thread waits (default: event-driven).</summary>
    public DeviceRunnerMode Mode { get; init; } = DeviceRunnerMode.EventDriven;

    /// <summary>Event-driven: how long to keep asking without sleeping after a doorbell.</summary>
    public TimeSpan EventSpin { get; init; } = TimeSpan.Zero;

    /// <summary>Adaptive polling: how long to keep polling after the last work before sleeping.</summary>
    public TimeSpan PollIdle { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Adaptive polling: what to do between looks while idle.</summary>
    public IdlePause IdlePause { get; init; } = IdlePause.Spin;

    /// <summary>
    /// Adaptive polling for doorbells that raise no event (a doorbell page mapped into the guest):
    /// when positive, the idle thread naps instead of sleeping on the events, 1 ms first and
    /// doubling after each empty look up to this (whole milliseconds, at least 1), and polls after
    /// every nap. Zero (the default): sleep on the events until a doorbell fires.
    /// </summary>
    public TimeSpan IdleNapLimit { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Longest sleep in one wait, in milliseconds (-1: until a doorbell or <see cref="DeviceRunner.Dispose"/>).
    /// A bound makes the thread look again now and then even if a wake-up were lost.
    /// </summary>
    public int SleepTimeoutMilliseconds { get; init; } = -1;

    /// <summary>The thread's name (shown by debuggers and in kernel stacks).</summary>
    public string ThreadName { get; init; } = "shadowio-device";

    /// <summary>What health messages call the device ("the controller thread failed: …").</summary>
    public string DeviceName { get; init; } = "device";
}
