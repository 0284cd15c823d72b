using System.Runtime.ExceptionServices;
using ShadowIo.Generator.Tests.Blocks;

namespace ShadowIo.Generator.Tests;

/// <summary>
/// The register-block concurrency contract without a VM: a guest thread (MMIO dispatch) and a
/// device thread (typed field setters) update one register of each width at the same time, and no
/// update of either is lost. Each side owns what it can check: the device its DEVICE field, the
/// guest its GUEST toggles (it knows their parity), and two hand-overs are counted: EVENT (device
/// raises, guest acknowledges with write-1-to-clear) and PENDING (device raises, a guest read
/// consumes it). A lost or doubled update shows as an owner reading a value it did not write, or as
/// counts that do not balance; a hook pair that changed DEVICE shows an inexact hook. Run against
/// the generator before the contract (plain loads and stores), every register lost updates.
/// </summary>
public sealed class GeneratedConcurrencyTests
{
    private const int GuestOperations = 400_000;

    /// <summary>
    /// Hand-overs of each kind the guest must have seen before it stops: the two threads really ran
    /// side by side that often, however the scheduler placed them (a count, not a time).
    /// </summary>
    private const int HandOvers = 1_000;
    private const ulong EventBit = 1UL << 4, PendingBit = 1UL << 5;

    /// <summary>How long a thread may take: seconds of work at most, even on a loaded 2-core machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    public static TheoryData<string, int> LanesAndSeeds()
    {
        var data = new TheoryData<string, int>();
        foreach (string lane in (string[])["Narrow", "Half", "Word", "Wide"])
        {
            data.Add(lane, 1);
            data.Add(lane, 2);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LanesAndSeeds))]
    public void Guest_dispatch_and_device_field_setters_racing_on_one_register_lose_no_update(string lane, int seed)
    {
        var block = new ContendedBlock();
        Lane l = Lane.Of(lane);
        using var start = new Barrier(2);
        using var guestDone = new ManualResetEventSlim();
        long guestLost = 0, acknowledged = 0, consumed = 0, guestOperations = 0;
        long deviceLost = 0, raisedEvents = 0, raisedPending = 0, deviceSteps = 0;
        ulong guestExpected = 0, deviceExpected = 0;

        var guest = new Worker("guest", () =>
        {
            var random = new Random(seed);
            start.SignalAndWait();
            try
            {
                GuestLoop(random);
            }
            finally
            {
                guestDone.Set();
            }
        });
        void GuestLoop(Random random)
        {
            for (long i = 0; i < GuestOperations || acknowledged < HandOvers || consumed < HandOvers; i++)
            {
                ulong toggle = (ulong)random.Next(1, 4) << l.GuestShift;
                switch (random.Next(8))
                {
                    case 0 or 1: // a 1-byte write of the guest's own byte: merged into the wider register
                        int lane8 = l.GuestShift / 8;
                        block.WriteMmio(l.Offset + (ulong)lane8, 1, toggle >> (lane8 * 8));
                        guestExpected ^= toggle >> l.GuestShift;
                        break;
                    case 2: // the whole register
                        block.WriteMmio(l.Offset, l.Width, toggle);
                        guestExpected ^= toggle >> l.GuestShift;
                        break;
                    case 3: // two bytes where the register has them
                        block.WriteMmio(l.Offset, Math.Min(l.Width, 2), toggle);
                        guestExpected ^= toggle >> l.GuestShift;
                        break;
                    default:
                        ulong value = block.ReadMmio(l.Offset, l.Width); // consumes PENDING
                        ulong mine = (value >> l.GuestShift) & 3;
                        if (mine != guestExpected)
                        {
                            guestLost++;
                            guestExpected = mine;
                        }

                        if ((value & PendingBit) != 0) consumed++;
                        if ((value & EventBit) != 0)
                        {
                            block.WriteMmio(l.Offset, 1, EventBit); // acknowledge: write 1 to clear
                            acknowledged++;
                        }

                        break;
                }

                guestOperations++;
            }
        }

        var device = new Worker("device", () =>
        {
            start.SignalAndWait();
            while (!guestDone.IsSet)
            {
                ulong observed = l.Device(block);
                if (observed != deviceExpected)
                {
                    deviceLost++;
                    deviceExpected = observed;
                }

                deviceExpected = (deviceExpected + 1) & ContendedBlock.DeviceBits;
                l.SetDevice(block, deviceExpected);
                if (!l.Event(block))
                {
                    l.RaiseEvent(block);
                    raisedEvents++;
                }

                if (!l.Pending(block))
                {
                    l.RaisePending(block);
                    raisedPending++;
                }

                deviceSteps++;
            }
        });
        guest.Join();
        device.Join();

        if (l.Device(block) != deviceExpected) deviceLost++;
        if (l.Guest(block) != guestExpected) guestLost++;
        long eventsLeft = l.Event(block) ? 1 : 0, pendingLeft = l.Pending(block) ? 1 : 0;
        string books =
            $"{lane}, seed {seed}: {guestOperations} guest operations, {deviceSteps} device steps; " +
            $"device updates lost {deviceLost}, guest toggles lost {guestLost}, hooks with device bits changed {block.HooksThatChangedDeviceBits}; " +
            $"EVENT raised {raisedEvents} = acknowledged {acknowledged} + left {eventsLeft}?; PENDING raised {raisedPending} = consumed {consumed} + left {pendingLeft}?";
        TestContext.Current.TestOutputHelper?.WriteLine(books);
        Assert.True(
            deviceLost == 0 && guestLost == 0 && block.HooksThatChangedDeviceBits == 0
            && raisedEvents == acknowledged + eventsLeft && raisedPending == consumed + pendingLeft,
            books);
    }

    /// <summary>One register of <see cref="ContendedBlock"/> seen through its generated members.</summary>
    private sealed record Lane(
        ulong Offset, int Width, int GuestShift,
        Func<ContendedBlock, ulong> Device, Action<ContendedBlock, ulong> SetDevice, Func<ContendedBlock, ulong> Guest,
        Func<ContendedBlock, bool> Event, Action<ContendedBlock> RaiseEvent,
        Func<ContendedBlock, bool> Pending, Action<ContendedBlock> RaisePending)
    {
        public static Lane Of(string name) => name switch
        {
            "Narrow" => new(ContendedBlock.NarrowOffset, 1, ContendedBlock.NarrowFields.GuestShift,
                b => b.NarrowDevice, (b, v) => b.NarrowDevice = (byte)v, b => b.NarrowGuest,
                b => b.NarrowEvent, b => b.NarrowEvent = true, b => b.NarrowPending, b => b.NarrowPending = true),
            "Half" => new(ContendedBlock.HalfOffset, 2, ContendedBlock.HalfFields.GuestShift,
                b => b.HalfDevice, (b, v) => b.HalfDevice = (ushort)v, b => b.HalfGuest,
                b => b.HalfEvent, b => b.HalfEvent = true, b => b.HalfPending, b => b.HalfPending = true),
            "Word" => new(ContendedBlock.WordOffset, 4, ContendedBlock.WordFields.GuestShift,
                b => b.WordDevice, (b, v) => b.WordDevice = (uint)v, b => b.WordGuest,
                b => b.WordEvent, b => b.WordEvent = true, b => b.WordPending, b => b.WordPending = true),
            "Wide" => new(ContendedBlock.WideOffset, 8, ContendedBlock.WideFields.GuestShift,
                b => b.WideDevice, (b, v) => b.WideDevice = v, b => b.WideGuest,
                b => b.WideEvent, b => b.WideEvent = true, b => b.WidePending, b => b.WidePending = true),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such register"),
        };
    }

    /// <summary>A started thread whose failure fails the test at <see cref="Join"/>, and whose Join gives up after <see cref="Patience"/>.</summary>
    private sealed class Worker
    {
        private readonly Thread _thread;
        private Exception? _failure;

        public Worker(string name, Action body)
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
            Assert.True(_thread.Join(Patience), $"the {_thread.Name} thread did not finish within {Patience.TotalMinutes} min");
            if (_failure is not null) ExceptionDispatchInfo.Throw(_failure);
        }
    }
}
