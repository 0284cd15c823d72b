using System.Collections.Concurrent;
using ShadowIo.Binding;
using ShadowIo.Samples.Nvme.Guest;
using ShadowIo.Testing;
using Xunit;

namespace ShadowIo.Nvme.Tests.EndToEnd;

/// <summary>
/// The guest driver's doorbell rule, run on a real vCPU: for random old values, new values and
/// EventIdx values (wrap-arounds included) the guest writes the MMIO doorbell exactly when Linux's
/// <c>(u16)(new − eventidx − 1) &lt; (u16)(new − old)</c> says, and always stores the shadow first.
/// </summary>
/// <remarks>
/// Each case submits one command whose completion the harness has already posted, so no
/// controller is needed: the only MMIO writes are the doorbells the rule lets through, and they
/// reach a recorder on the bus (no binding, so every one exits to userspace).
/// </remarks>
public sealed class GuestEventIdxRuleTests
{
    private const ulong Bar = 0xFE00_0000;
    private const int Entries = 64;
    private const ushort QueueId = 1;

    [Fact]
    public void The_guest_rings_exactly_when_the_new_value_passes_eventidx()
    {
        RequireKvm.Present();
        var layout = new WorkloadLayout(ShadowIo.Testing.GuestLayout.Data, Entries, commandSlots: 1, dataPages: 1);
        using var guest = TestGuest.Create(8UL << 20);
        var recorder = new DoorbellRecorder();
        var bus = new MmioBus();
        bus.Add(Bar, 0x4000, recorder);
        var random = new Random(20260324);

        var cases = new List<(ushort Tail, ushort SqEventIdx, ushort Head, ushort CqEventIdx)>
        {
            (0, 0, 0, 0),          // EventIdx == old: the first value past it rings
            (5, 4, 5, 4),          // EventIdx one behind (a polling controller's choice): no ring
            (63, 63, 63, 63),      // the new value wraps to 0 in a 64-entry queue
            (63, 62, 63, 62),
            (10, 0xFFFF, 10, 0xFFFF),
            (0, 0xFFFF, 0, 0xFFFF), // EventIdx = tail - 1 modulo 2^16 at tail 0
        };
        for (int i = 0; i < 150; i++)
            cases.Add(((ushort)random.Next(Entries), (ushort)random.Next(65536), (ushort)random.Next(Entries), (ushort)random.Next(65536)));
        for (int i = 0; i < 50; i++)
        {
            // EventIdx near the values, where the rule's answer changes.
            ushort tail = (ushort)random.Next(Entries), head = (ushort)random.Next(Entries);
            cases.Add((tail, (ushort)(tail + random.Next(-2, 3)), head, (ushort)(head + random.Next(-2, 3))));
        }

        int rings = 0;
        foreach (var (tail, sqEventIdx, head, cqEventIdx) in cases)
        {
            ushort newTail = (ushort)((tail + 1) % Entries), newHead = (ushort)((head + 1) % Entries);
            Prepare(guest.Memory, layout, tail, sqEventIdx, head, cqEventIdx);
            recorder.Clear();

            var program = new DriverProgram(Bar, layout.Statistics, (byte)ShadowIo.Testing.GuestLayout.FinishPort, 20_000_000_000);
            program.Run(new QueueJob
            {
                QueueId = QueueId,
                SubmissionQueue = layout.IoSubmissionQueue,
                CompletionQueue = layout.IoCompletionQueue,
                Entries = Entries,
                StateAddress = layout.IoQueueState,
                CommandTable = layout.IoCommands,
                Count = 1,
                Depth = 1,
                Policy = DoorbellPolicy.ShadowEventIdx,
                ShadowPage = layout.ShadowDoorbells,
                EventIndexPage = layout.EventIndexes,
            });
            guest.Load(program.Assemble(ShadowIo.Testing.GuestLayout.Code));
            guest.RunToFinish(bus);

            string where = $"tail {tail}→{newTail} EventIdx {sqEventIdx}, head {head}→{newHead} EventIdx {cqEventIdx}";
            var expected = new List<(ulong, ulong)>();
            if (LinuxNeedsEvent(sqEventIdx, newTail, tail)) expected.Add((0x1000 + 8UL * QueueId, newTail));
            if (LinuxNeedsEvent(cqEventIdx, newHead, head)) expected.Add((0x1004 + 8UL * QueueId, newHead));
            Assert.True(expected.SequenceEqual(recorder.Writes), $"{where}: expected [{string.Join(", ", expected)}], the guest wrote [{string.Join(", ", recorder.Writes)}]");
            Assert.True(guest.Memory.TryRead(layout.ShadowDoorbells + 8UL * QueueId, out uint shadowTail) && shadowTail == newTail, $"{where}: shadow tail {shadowTail}");
            Assert.True(guest.Memory.TryRead(layout.ShadowDoorbells + 8UL * QueueId + 4, out uint shadowHead) && shadowHead == newHead, $"{where}: shadow head {shadowHead}");
            Assert.True(GuestStatistics.TryRead(guest.Memory, layout.Statistics, out var statistics));
            Assert.Equal(expected.Count, statistics.DoorbellWrites);
            Assert.Equal(2 - expected.Count, statistics.SuppressedDoorbells);
            rings += expected.Count;
        }
        // The random cases must exercise both answers of the rule.
        Assert.InRange(rings, 1, 2 * cases.Count - 1);
    }

    /// <summary>Linux drivers/nvme/host/pci.c, nvme_dbbuf_need_event.</summary>
    private static bool LinuxNeedsEvent(ushort eventIdx, ushort newIdx, ushort old) =>
        (ushort)(newIdx - eventIdx - 1) < (ushort)(newIdx - old);

    /// <summary>Queue state, shadow and EventIdx words, and the completion already waiting at the head.</summary>
    private static void Prepare(GuestMemory memory, WorkloadLayout layout, ushort tail, ushort sqEventIdx, ushort head, ushort cqEventIdx)
    {
        // The ring as a real controller leaves it one lap in (phase 1): entries before the head were
        // posted in this lap, those after it are the last lap's (phase 0), so only the head is new.
        Assert.True(memory.TryGetSpan(layout.IoCompletionQueue, Entries * 16, out var completions));
        completions.Clear();
        for (int slot = 0; slot < head; slot++)
            Assert.True(memory.TryWrite(layout.IoCompletionQueue + (ulong)slot * 16 + 12, 1u << 16));
        Assert.True(memory.TryWrite(layout.Statistics, new byte[GuestStatistics.Size]));
        Assert.True(memory.TryWrite(layout.IoQueueState, (uint)tail));
        Assert.True(memory.TryWrite(layout.IoQueueState + 4, (uint)head));
        Assert.True(memory.TryWrite(layout.IoQueueState + 8, 1u));
        Assert.True(memory.TryWrite(layout.ShadowDoorbells + 8UL * QueueId, (uint)tail));
        Assert.True(memory.TryWrite(layout.ShadowDoorbells + 8UL * QueueId + 4, (uint)head));
        Assert.True(memory.TryWrite(layout.EventIndexes + 8UL * QueueId, (uint)sqEventIdx));
        Assert.True(memory.TryWrite(layout.EventIndexes + 8UL * QueueId + 4, (uint)cqEventIdx));
        // Success, phase 1, command identifier 0 (the guest numbers commands from 0 in each run).
        Assert.True(memory.TryWrite(layout.IoCompletionQueue + head * 16UL + 12, 1u << 16));
        Span<byte> entry = stackalloc byte[SubmissionEntries.Size];
        SubmissionEntries.ReadWrite(entry, SubmissionEntries.ReadOpcode, 1, 0, 1, layout.ReadBuffers, 0);
        Assert.True(memory.TryWrite(layout.IoCommands, entry));
    }

    private sealed class DoorbellRecorder : IMmioDevice
    {
        private readonly ConcurrentQueue<(ulong Offset, ulong Value)> _writes = new();

        public IEnumerable<(ulong Offset, ulong Value)> Writes => _writes;

        public void Clear() => _writes.Clear();

        public ulong ReadMmio(ulong offset, int size) => 0;

        public void WriteMmio(ulong offset, int size, ulong value) => _writes.Enqueue((offset, value));
    }
}
