using System.Runtime.ExceptionServices;
using ShadowIo.Devices.Nvme;
using Xunit;

namespace ShadowIo.Nvme.Tests.Controller;

/// <summary>
/// The threading rule: MMIO (vCPU threads) and doorbell events / polling (another thread) enter
/// the controller concurrently; one lock per entry point keeps the state consistent.
/// </summary>
public sealed class ThreadingTests
{
    private const ulong Data = NvmeTestHost.DataArea;

    /// <summary>How long any wait here may take: seconds of work at most, even on a loaded 2-core machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Admin_mmio_io_doorbell_events_and_polling_run_concurrently_without_losing_a_command()
    {
        using var host = new NvmeTestHost();
        host.Enable();
        var io = host.CreateIoQueuePair(1, entries: 32);
        var source = host.Controller.DoorbellSource;
        const int Rounds = 400;
        int adminDone = 0, ioDone = 0;
        using var stop = new CancellationTokenSource();

        // vCPU thread: admin commands through MMIO doorbells, plus invalid doorbell writes.
        var vcpu = new TestThread("vcpu", () =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                host.Submit(host.Admin, Commands.Identify(IdentifyCns.Controller, 0, Data));
                host.RingSq(host.Admin);
                SpinUntil(() => host.TryReap(host.Admin, out var c) && c.Status == NvmeStatus.Success, $"the successful completion of admin Identify {i}");
                host.RingCq(host.Admin);
                host.Write32(0x1010, 5); // SQ 2 does not exist: ignored and reported
                adminDone++;
            }
        });
        // Event thread: a binding stored the tail in the shadow and signalled row 1.
        var events = new TestThread("event", () =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                host.Submit(io, Commands.Io(IoOpcode.Read, (ulong)i % 64, 1, Data + 0x1_0000));
                source.WriteUInt32(NvmeRegisters.ShadowLayout.SqTail + NvmeRegisters.ShadowLayout.SqTailStride, (uint)io.SqTail);
                host.Controller.ProcessDoorbell(NvmeRegisters.DoorbellIndex.SqTail + 1);
                SpinUntil(() => host.TryReap(io, out var c) && c.Status == NvmeStatus.Success, $"the successful completion of I/O read {i}");
                source.WriteUInt32(NvmeRegisters.ShadowLayout.CqHead + NvmeRegisters.ShadowLayout.CqHeadStride, (uint)io.CqHead);
                host.Controller.ProcessDoorbell(NvmeRegisters.DoorbellIndex.CqHead + 1);
                ioDone++;
            }
        });
        var poller = new TestThread("polling", () =>
        {
            while (!stop.IsCancellationRequested) host.Controller.Poll();
        });
        try
        {
            vcpu.Join();
            events.Join();
        }
        finally
        {
            stop.Cancel();
            poller.Join();
        }

        Assert.Equal(Rounds, adminDone);
        Assert.Equal(Rounds, ioDone);
        Assert.Equal(0, host.Controller.Counters.InternalErrors);
        Assert.Equal(host.Controller.Counters.CommandsFetched, host.Controller.Counters.CompletionsPosted);
        Assert.Equal(Rounds, host.Controller.Counters.InvalidDoorbellWrites);
    }

    [Fact]
    public void Resets_from_the_vcpu_thread_during_io_from_the_event_thread_are_safe()
    {
        using var host = new NvmeTestHost();
        host.Enable();
        host.CreateIoQueuePair(1, entries: 16);
        var source = host.Controller.DoorbellSource;
        using var stop = new CancellationTokenSource();
        var events = new TestThread("event", () =>
        {
            uint tail = 0;
            while (!stop.IsCancellationRequested)
            {
                // Ring whatever: the queue may be gone, recreated, or the controller disabled.
                tail = (tail + 1) % 16;
                source.WriteUInt32(8, tail);
                host.Controller.ProcessDoorbell(1);
                source.WriteUInt32(12, tail);
                host.Controller.ProcessDoorbell(NvmeRegisters.DoorbellIndex.CqHead + 1);
                host.Controller.Poll();
            }
        });
        try
        {
            for (int i = 0; i < 200; i++)
            {
                host.Disable();
                host.Enable();
                host.CreateIoQueuePair(1, entries: 16);
            }
        }
        finally
        {
            stop.Cancel();
            events.Join();
        }
        Assert.Equal(0, host.Controller.Counters.InternalErrors);
        Assert.True(host.Ram.RedZonesIntact());
    }

    private static void SpinUntil(Func<bool> condition, string awaited)
    {
        if (!SpinWait.SpinUntil(condition, Patience))
            throw new TimeoutException($"waited {Patience.TotalSeconds} s for {awaited}");
    }

    /// <summary>
    /// A started thread whose failure fails the test at <see cref="Join"/> (an exception escaping a
    /// plain Thread would end the whole test process), and whose Join gives up after <see cref="Patience"/>.
    /// </summary>
    private sealed class TestThread
    {
        private readonly Thread _thread;
        private Exception? _failure;

        public TestThread(string name, Action body)
        {
            _thread = new Thread(() =>
            {
                try
                {
                    body();
                }
                catch (Exception e)
                {
                    _failure = e;
                }
            }) { IsBackground = true, Name = name };
            _thread.Start();
        }

        public void Join()
        {
            Assert.True(_thread.Join(Patience), $"the {_thread.Name} thread did not finish within {Patience.TotalSeconds} s");
            if (_failure is not null) ExceptionDispatchInfo.Throw(_failure);
        }
    }
}
