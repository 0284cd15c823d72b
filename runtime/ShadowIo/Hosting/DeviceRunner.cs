using System.Diagnostics;

namespace ShadowIo.Hosting;

/// <summary>
/// The device thread of a host: waits on a <see cref="DoorbellEvents"/> set (event-driven or
/// adaptive polling, see <see cref="DeviceRunnerMode"/>) and drives an
/// <see cref="IDoorbellDevice"/>; captures a failure of the thread and reports it, with the
/// device's own internal errors, through <see cref="CheckHealth"/>. One copy of the thread, the
/// stop flag, the polling hand-over and the counters for every transport and device.
/// </summary>
/// <remarks>
/// Threading: the counters and <see cref="Failure"/> are published with interlocked / volatile
/// writes and may be read from any thread. <see cref="Dispose"/> (any thread but the runner's)
/// stops the loop and joins it; the events, sources and device stay the caller's, to dispose
/// after the runner.
/// </remarks>
public sealed class DeviceRunner : IDisposable
{
    private const int BatchSize = 64;

    private readonly IDoorbellDevice _device;
    private readonly DoorbellEvents _events;
    private readonly DeviceRunnerOptions _options;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private Exception? _failure;
    private long _doorbellEvents;
    private long _sleeps;
    private long _naps;
    private int _disposed;

    /// <summary>Starts the device thread.</summary>
    /// <param name="device">The device the thread drives.</param>
    /// <param name="events">The wait set holding the device's doorbell sources (rows are the device's table rows).</param>
    /// <param name="options">How to wait; defaults when null.</param>
    public DeviceRunner(IDoorbellDevice device, DoorbellEvents events, DeviceRunnerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(events);
        _device = device;
        _events = events;
        _options = options ?? new DeviceRunnerOptions();
        _thread = new Thread(Run) { IsBackground = true, Name = _options.ThreadName };
        _thread.Start();
    }

    /// <summary>The settings the thread runs with.</summary>
    public DeviceRunnerOptions Options => _options;

    /// <summary>Doorbell events the thread received (eventfd signals, coalesced: one per fired row per wait).</summary>
    public long DoorbellEvents => Interlocked.Read(ref _doorbellEvents);

    /// <summary>Adaptive polling: how often the thread went idle and slept until a doorbell.</summary>
    public long Sleeps => Interlocked.Read(ref _sleeps);

    /// <summary>Adaptive polling with <see cref="DeviceRunnerOptions.IdleNapLimit"/>: the timed naps taken while idle.</summary>
    public long Naps => Interlocked.Read(ref _naps);

    /// <summary>What ended the thread, if it failed (null while it runs or after a clean stop).</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>
    /// Whether something is wrong: the thread died (<paramref name="cause"/> is its exception) or the
    /// device caught internal errors. <paramref name="description"/> says which, in one line.
    /// </summary>
    public bool TryGetFault(out string description, out Exception? cause)
    {
        if (Failure is { } failure)
        {
            description = $"the {_options.DeviceName} thread failed: {failure.GetType().Name}: {failure.Message}";
            cause = failure;
            return true;
        }
        long errors = _device.InternalErrors;
        if (errors != 0)
        {
            description = $"the {_options.DeviceName} caught {errors} internal error(s); last: {_device.LastInternalError?.Message}";
            cause = _device.LastInternalError;
            return true;
        }
        description = "";
        cause = null;
        return false;
    }

    /// <summary>Throws when the thread died or the device caught one of its own bugs.</summary>
    /// <exception cref="InvalidOperationException">With the description and, as inner exception, the cause.</exception>
    public void CheckHealth()
    {
        if (TryGetFault(out string description, out var cause)) throw new InvalidOperationException(description, cause);
    }

    /// <summary>Stops the thread (wakes it if asleep) and waits for it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping = true;
        _events.Wake();
        if (_thread != Thread.CurrentThread) _thread.Join();
    }

    private void Run()
    {
        try
        {
            if (_options.Mode == DeviceRunnerMode.AdaptivePolling) PollAdaptively();
            else WaitForEvents();
        }
        catch (Exception e)
        {
            Volatile.Write(ref _failure, e);
        }
    }

    private void WaitForEvents()
    {
        Span<DoorbellEvent> fired = stackalloc DoorbellEvent[BatchSize];
        long spinTicks = ToTicks(_options.EventSpin);
        long lastEvent = 0;
        while (!_stopping)
        {
            bool spin = Stopwatch.GetTimestamp() - lastEvent < spinTicks;
            int n = _events.Wait(fired, spin ? 0 : _options.SleepTimeoutMilliseconds);
            if (n == 0) continue;
            for (int i = 0; i < n; i++) _device.ProcessDoorbell(fired[i].Row);
            Interlocked.Add(ref _doorbellEvents, n);
            lastEvent = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>
    /// The order that loses no ring: while polling, the device may have told the guest not to
    /// ring; so before sleeping, clear <see cref="IDoorbellDevice.IsPolling"/> (the guest's next
    /// work now rings), poll once more for work published meanwhile, and sleep only if there was none.
    /// </summary>
    private void PollAdaptively()
    {
        Span<DoorbellEvent> fired = stackalloc DoorbellEvent[BatchSize];
        long idleTicks = ToTicks(_options.PollIdle);
        int napLimit = _options.IdleNapLimit <= TimeSpan.Zero ? 0 : Math.Max(1, (int)_options.IdleNapLimit.TotalMilliseconds);
        long lastWork = Stopwatch.GetTimestamp();
        _device.IsPolling = true;
        while (!_stopping)
        {
            if (_device.Poll() > 0)
            {
                lastWork = Stopwatch.GetTimestamp();
                continue;
            }
            if (Stopwatch.GetTimestamp() - lastWork < idleTicks)
            {
                if (_options.IdlePause == IdlePause.Yield) Thread.Yield();
                else Thread.SpinWait(16);
                continue;
            }
            _device.IsPolling = false;
            if (_device.Poll() > 0) _device.IsPolling = true;
            else
            {
                Interlocked.Increment(ref _sleeps);
                if (napLimit > 0) NapUntilWork(fired, napLimit);
                else HandOver(fired[.._events.Wait(fired, _options.SleepTimeoutMilliseconds)]);
            }
            lastWork = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>
    /// Idle with doorbells that raise no event (a doorbell page mapped into the guest, where a
    /// store leaves only its value): sleep 1 ms, look, and double the sleep after every empty
    /// look up to <see cref="DeviceRunnerOptions.IdleNapLimit"/>. Looking again without a pause
    /// would hold a core the guest's vCPUs need (under TCG they are the machine's bottleneck), so
    /// the thread's cost while idle is one look per nap (at a 4 ms limit, 250 a second once
    /// settled), and the price is latency for the first command after a quiet spell: at most one
    /// nap. Any work found, or an eventfd that does fire (a write that came as a message),
    /// returns to continuous polling, whose spin (<see cref="DeviceRunnerOptions.PollIdle"/>)
    /// keeps a busy queue from ever waiting for a nap.
    /// </summary>
    private void NapUntilWork(Span<DoorbellEvent> fired, int napLimit)
    {
        int nap = 1;
        while (!_stopping)
        {
            Interlocked.Increment(ref _naps);
            int events = _events.Wait(fired, nap);
            if (events > 0)
            {
                HandOver(fired[..events]);
                return;
            }
            if (_device.Poll() > 0)
            {
                _device.IsPolling = true;
                return;
            }
            nap = Math.Min(nap * 2, napLimit);
        }
    }

    /// <summary>
    /// Back from a sleep that doorbells ended: polling again, and each fired row goes to the device
    /// as in event-driven mode, so what the device counts as notifications is what the guest rang in
    /// either mode (the next Poll would find the work as well, but not that a doorbell brought it).
    /// </summary>
    private void HandOver(ReadOnlySpan<DoorbellEvent> fired)
    {
        _device.IsPolling = true;
        foreach (var e in fired) _device.ProcessDoorbell(e.Row);
        Interlocked.Add(ref _doorbellEvents, fired.Length);
    }

    private static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
