using System.Collections.Concurrent;
using ShadowIo.Hosting;
using ShadowIo.Runtime.Tests.Blocks;

namespace ShadowIo.Runtime.Tests.Hosting;

/// <summary>The one device thread: over a real <see cref="DoorbellSet"/> fed by its trap handler.</summary>
public sealed class DeviceRunnerTests
{
    private static readonly DoorbellTable Table = TestDoorbellBlock.DoorbellTable;

    /// <summary>Records what the runner asked of it; its work is "the SQ 1 tail moved".</summary>
    private sealed class RecordingDevice(DoorbellSet doorbells) : IDoorbellDevice
    {
        private uint _seenTail;
        private bool _isPolling;

        public ConcurrentQueue<string> Calls { get; } = new();
        public ConcurrentQueue<int> Processed { get; } = new();
        public Exception? ThrowOnProcess { get; set; }

        public void ProcessDoorbell(int row)
        {
            if (ThrowOnProcess is { } e) throw e;
            Processed.Enqueue(row);
        }

        public long Polls;

        public int Poll()
        {
            Interlocked.Increment(ref Polls);
            uint tail = new TestDoorbellBlock.DoorbellReader(doorbells.Shadow).SqTail(1);
            if (tail == _seenTail) return 0;
            _seenTail = tail;
            Calls.Enqueue($"work {tail} polling={_isPolling}");
            return 1;
        }

        public bool IsPolling
        {
            get => _isPolling;
            set
            {
                if (_isPolling != value) Calls.Enqueue($"polling={value}");
                _isPolling = value;
            }
        }

        public long InternalErrors { get; set; }

        public Exception? LastInternalError { get; set; }
    }

    private static ulong SqTail(int queue) => Table[TestDoorbellBlock.DoorbellIndex.SqTail + queue].Offset;

    [Fact]
    public void Event_driven_hands_every_fired_row_to_the_device()
    {
        using var doorbells = DoorbellSet.Create(Table);
        using var events = new DoorbellEvents();
        events.Add(doorbells);
        var device = new RecordingDevice(doorbells);
        using (var runner = new DeviceRunner(device, events))
        {
            Assert.True(doorbells.TryHandleWrite(SqTail(2), 4, 7));
            Assert.True(SpinWait.SpinUntil(() => device.Processed.Count == 1, TimeSpan.FromSeconds(10)));
            Assert.True(doorbells.TryHandleWrite(SqTail(3), 4, 9));
            Assert.True(SpinWait.SpinUntil(() => device.Processed.Count == 2, TimeSpan.FromSeconds(10)));
            Assert.Equal([TestDoorbellBlock.DoorbellIndex.SqTail + 2, TestDoorbellBlock.DoorbellIndex.SqTail + 3], device.Processed.ToArray());
            Assert.Equal(2, runner.DoorbellEvents);
            runner.CheckHealth();
        }
        Assert.DoesNotContain(device.Calls, c => c.StartsWith("polling", StringComparison.Ordinal));
    }

    /// <summary>
    /// Idle: polling off, one more look, then sleep; a ring wakes the thread, which polls with
    /// polling back on, hands the fired row to ProcessDoorbell (so the device counts the notification,
    /// as in event-driven mode) and polls.
    /// </summary>
    [Fact]
    public void Adaptive_polling_turns_polling_off_looks_once_more_then_sleeps_until_a_ring()
    {
        using var doorbells = DoorbellSet.Create(Table);
        using var events = new DoorbellEvents();
        events.Add(doorbells);
        var device = new RecordingDevice(doorbells);
        using var runner = new DeviceRunner(device, events, new DeviceRunnerOptions
        {
            Mode = DeviceRunnerMode.AdaptivePolling,
            PollIdle = TimeSpan.FromMilliseconds(1),
        });
        Assert.True(SpinWait.SpinUntil(() => runner.Sleeps == 1, TimeSpan.FromSeconds(10)));
        Assert.Equal(["polling=True", "polling=False"], device.Calls.ToArray());

        Assert.True(doorbells.TryHandleWrite(SqTail(1), 4, 5));
        Assert.True(SpinWait.SpinUntil(() => device.Calls.Contains("work 5 polling=True"), TimeSpan.FromSeconds(10)),
            string.Join(", ", device.Calls));
        // (A wait cut short by a signal would add one more idle cycle before the ring: allowed.)
        var calls = device.Calls.ToArray();
        int work = Array.IndexOf(calls, "work 5 polling=True");
        Assert.Equal(["polling=False", "polling=True"], calls[(work - 2)..work]);
        Assert.Equal([TestDoorbellBlock.DoorbellIndex.SqTail + 1], device.Processed);
        Assert.True(SpinWait.SpinUntil(() => runner.Sleeps == 2, TimeSpan.FromSeconds(10)));
        Assert.True(runner.DoorbellEvents >= 1);
    }

    [Fact]
    public void A_failed_thread_and_a_device_internal_error_both_fail_the_health_check()
    {
        using var doorbells = DoorbellSet.Create(Table);
        using var events = new DoorbellEvents();
        events.Add(doorbells);
        var device = new RecordingDevice(doorbells) { ThrowOnProcess = new InvalidDataException("boom") };
        using var runner = new DeviceRunner(device, events, new DeviceRunnerOptions { DeviceName = "widget" });
        runner.CheckHealth();
        device.InternalErrors = 2;
        device.LastInternalError = new FormatException("bad");
        var internalError = Assert.Throws<InvalidOperationException>(runner.CheckHealth);
        Assert.Equal("the widget caught 2 internal error(s); last: bad", internalError.Message);
        device.InternalErrors = 0;

        Assert.True(doorbells.TryHandleWrite(SqTail(0), 4, 1));
        Assert.True(SpinWait.SpinUntil(() => runner.Failure != null, TimeSpan.FromSeconds(10)));
        var died = Assert.Throws<InvalidOperationException>(runner.CheckHealth);
        Assert.Equal("the widget thread failed: InvalidDataException: boom", died.Message);
        Assert.IsType<InvalidDataException>(died.InnerException);
    }

    /// <summary>
    /// Doorbells that raise no event (a mapped doorbell page): the idle thread naps 1, 2, 4 ms and
    /// looks after each, so an idle second costs a few hundred looks instead of a spinning core,
    /// and a value stored with no signal at all is still found within a nap.
    /// </summary>
    [Fact]
    public void Idle_naps_bound_the_looks_and_still_find_a_store_that_signalled_nothing()
    {
        using var doorbells = DoorbellSet.Create(Table);
        using var events = new DoorbellEvents();
        events.Add(doorbells);
        var device = new RecordingDevice(doorbells);
        using (var runner = new DeviceRunner(device, events, new DeviceRunnerOptions
        {
            Mode = DeviceRunnerMode.AdaptivePolling,
            PollIdle = TimeSpan.FromMilliseconds(1),
            IdlePause = IdlePause.Yield,
            IdleNapLimit = TimeSpan.FromMilliseconds(4),
        }))
        {
            Thread.Sleep(200);   // past the spin: napping at the limit
            long before = Interlocked.Read(ref device.Polls);
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            Thread.Sleep(1000);
            long looks = Interlocked.Read(ref device.Polls) - before;
            double perSecond = looks / stopwatch.Elapsed.TotalSeconds;
            // 4 ms naps: about 250 looks a second; a spinning thread makes millions.
            Assert.InRange(perSecond, 50, 400);
            Assert.True(runner.Naps > 0);

            // A store straight into the shadow page, as the guest's into a mapped page: no eventfd.
            doorbells.ShadowPage.WriteUInt32(TestDoorbellBlock.ShadowLayout.SqTail + TestDoorbellBlock.ShadowLayout.SqTailStride, 3);
            var found = System.Diagnostics.Stopwatch.StartNew();
            while (!device.Calls.Any(c => c.StartsWith("work 3", StringComparison.Ordinal)) && found.ElapsedMilliseconds < 2000) Thread.Sleep(1);
            Assert.Contains(device.Calls, c => c.StartsWith("work 3", StringComparison.Ordinal));
            Assert.True(found.ElapsedMilliseconds < 100, $"found after {found.ElapsedMilliseconds} ms");
            runner.CheckHealth();
        }
    }
}
