using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Support;

/// <summary>One guest write to a doorbell row.</summary>
public readonly record struct DoorbellWrite(int Row, ulong Value);

/// <summary>What the emulator side saw after a guest ran a doorbell sequence.</summary>
public sealed record DoorbellObservation(
    ulong[] Signals,
    ulong[] LastValues,
    uint Control,
    uint StatusSeenByGuest,
    (int Row, ulong Value)[] Dispatched,
    long ExitsToUserspace,
    long TrappedWrites)
{
    /// <summary>The mode-independent part: what the device and its consumer observed.</summary>
    public string Observed =>
        $"signals [{string.Join(",", Signals)}] values [{string.Join(",", LastValues.Select(v => v.ToString("x")))}] " +
        $"control {Control:x} status {StatusSeenByGuest:x} dispatched [{string.Join(",", Dispatched)}]";
}

/// <summary>
/// Runs a CPL3 guest that rings the <see cref="TestDoorbellBlock"/>'s doorbells (storing each
/// value into its guest shadow page first, as an NVMe driver with Doorbell Buffer Config does),
/// then writes Control and reads Status through ordinary MMIO; a consumer thread waits on
/// <see cref="DoorbellEvents"/> the whole time.
/// </summary>
public static class DoorbellScenario
{
    /// <summary>Above the guest's RAM, inside its 4 GiB identity map.</summary>
    public const ulong BlockGpa = 0xFE00_0000;
    public const ulong GuestShadowGpa = GuestLayout.Data;
    public const ulong EventIdxGpa = GuestLayout.Data + 0x1000;
    public const ulong StatusCopyGpa = GuestLayout.Data + 0x2000;
    public const uint ControlValue = 0x0046_0001;

    public static DoorbellTable Table => TestDoorbellBlock.DoorbellTable;

    /// <summary>Every row written several times, interleaved; the datamatch doorbell also with other values.</summary>
    public static DoorbellWrite[] Sequence(int seed, int writesPerRow = 5)
    {
        var random = new Random(seed);
        var writes = new List<DoorbellWrite>();
        for (int row = 0; row < Table.Count; row++)
        {
            ref readonly var e = ref Table[row];
            for (int k = 0; k < writesPerRow; k++)
            {
                ulong value = e.HasDataMatch
                    ? (k % 2 == 0 ? e.DataMatch : e.DataMatch + 1 + (ulong)k)
                    : (ulong)random.NextInt64() & Mask(e.Width);
                writes.Add(new DoorbellWrite(row, value));
            }
        }
        return [.. writes.OrderBy(_ => random.Next())];
    }

    public static ulong Mask(int width) => width >= 8 ? ulong.MaxValue : (1UL << (width * 8)) - 1;

    /// <summary>Signals each row must see: every write, except non-matching writes to a datamatch doorbell.</summary>
    public static ulong[] ExpectedSignals(IEnumerable<DoorbellWrite> writes)
    {
        var expected = new ulong[Table.Count];
        foreach (var w in writes)
            if (!Table[w.Row].HasDataMatch || Table[w.Row].DataMatch == w.Value) expected[w.Row]++;
        return expected;
    }

    /// <summary>The last value written to each value row (0 for notify rows and unwritten rows).</summary>
    public static ulong[] ExpectedLastValues(IEnumerable<DoorbellWrite> writes)
    {
        var last = new ulong[Table.Count];
        foreach (var w in writes)
            if (Table[w.Row].Kind == DoorbellKind.Value) last[w.Row] = w.Value;
        return last;
    }

    public static void EmitWrites(Assembler a, IEnumerable<DoorbellWrite> writes)
    {
        a.mov(rbx, BlockGpa);
        a.mov(rsi, GuestShadowGpa);
        foreach (var w in writes)
        {
            ref readonly var e = ref Table[w.Row];
            a.mov(rax, w.Value);
            if (e.Kind == DoorbellKind.Value) Store(a, rsi, e.ShadowOffset, e.Width);
            Store(a, rbx, (int)e.Offset, e.Width);
        }
    }

    public static void EmitRegisterAccess(Assembler a)
    {
        a.mov(rbx, BlockGpa);
        a.mov(__dword_ptr[rbx + (int)TestDoorbellBlock.ControlOffset], ControlValue);
        a.mov(eax, __dword_ptr[rbx + (int)TestDoorbellBlock.StatusOffset]);
        a.mov(rcx, StatusCopyGpa);
        a.mov(__dword_ptr[rcx], eax);
    }

    public static void Store(Assembler a, AssemblerRegister64 @base, int displacement, int width)
    {
        switch (width)
        {
            case 1: a.mov(__byte_ptr[@base + displacement], al); break;
            case 2: a.mov(__word_ptr[@base + displacement], ax); break;
            case 4: a.mov(__dword_ptr[@base + displacement], eax); break;
            default: a.mov(__qword_ptr[@base + displacement], rax); break;
        }
    }

    /// <summary>Builds a guest, binds the block in <paramref name="mode"/>, runs the writes and observes.</summary>
    public static DoorbellObservation Run(DoorbellBindingMode mode, IReadOnlyList<DoorbellWrite> writes, bool attachGuestShadow)
    {
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        EmitWrites(a, writes);
        EmitRegisterAccess(a);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var binding = DoorbellBinding.Create(guest.Vm, Table, BlockGpa, mode);
        if (attachGuestShadow)
        {
            Assert.True(guest.Memory.TryGetShadowRegion(GuestShadowGpa, 4096, out var shadow));
            Assert.True(guest.Memory.TryGetShadowRegion(EventIdxGpa, 4096, out var eventIdx));
            binding.AttachGuestShadow(shadow, eventIdx);
        }
        var device = new TestDoorbellBlock();
        var bus = new MmioBus();
        bus.Add(BlockGpa, device, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var consumer = new Consumer(events, Table.Count, source);

        var result = guest.RunToFinish(bus);
        var signals = consumer.Stop();

        var reader = new TestDoorbellBlock.DoorbellReader(binding.Shadow);
        var last = new ulong[Table.Count];
        for (int i = 0; i < 4; i++)
        {
            last[TestDoorbellBlock.DoorbellIndex.SqTail + i] = reader.SqTail(i);
            last[TestDoorbellBlock.DoorbellIndex.CqHead + i] = reader.CqHead(i);
        }
        last[TestDoorbellBlock.DoorbellIndex.Wide] = reader.Wide;
        Assert.True(guest.Memory.TryRead(StatusCopyGpa, out uint status));
        return new DoorbellObservation(signals, last, device.Control, status, [.. device.DispatchedDoorbells],
            result.ExitsToUserspace, binding.TrappedWrites);
    }

    /// <summary>The emulator side: a thread of its own waiting on DoorbellEvents, summing signals per row.</summary>
    public sealed class Consumer : IDisposable
    {
        private readonly DoorbellEvents _events;
        private readonly ulong[] _signals;
        private readonly int _source;
        private readonly Thread _thread;
        private volatile bool _stop;

        public Consumer(DoorbellEvents events, int rows, int source)
        {
            _events = events;
            _signals = new ulong[rows];
            _source = source;
            _thread = new Thread(Loop) { IsBackground = true, Name = "doorbell consumer" };
            _thread.Start();
        }

        public int Wakeups { get; private set; }

        private void Loop()
        {
            var batch = new DoorbellEvent[32];
            while (!_stop)
            {
                int n = _events.Wait(batch, 5000);
                Wakeups++;
                Add(batch.AsSpan(0, n));
            }
            // Whatever KVM signalled after the last wait is still counted in the eventfds.
            int rest;
            while ((rest = _events.Wait(batch, 0)) > 0) Add(batch.AsSpan(0, rest));
        }

        private void Add(ReadOnlySpan<DoorbellEvent> fired)
        {
            foreach (var e in fired)
            {
                Assert.Equal(_source, e.Source);
                _signals[e.Row] += e.Signals;
            }
        }

        public ulong[] Stop()
        {
            _stop = true;
            _events.Wake();
            _thread.Join();
            return _signals;
        }

        public void Dispose()
        {
            if (_thread.IsAlive) Stop();
        }
    }
}
