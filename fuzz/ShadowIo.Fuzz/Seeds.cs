using System.Buffers.Binary;
using ShadowIo.Fuzz.Nvme;

namespace ShadowIo.Fuzz;

/// <summary>
/// The starting corpus of each target: short, valid sessions that reach deep state (enabled
/// controller, I/O queues, Doorbell Buffer Config; a vfio-user handshake, mapped RAM, doorbells,
/// interrupts), plus a few broken ones. AFL++ mutates from there.
/// </summary>
public static class Seeds
{
    public static int Write(string target, string directory)
    {
        Directory.CreateDirectory(directory);
        var seeds = target switch
        {
            FuzzTargets.Nvme => Nvme(),
            FuzzTargets.VfioUser => VfioUserSeeds.Create(),
            FuzzTargets.VfioUserVirtio => VfioUserVirtioSeeds.Create(),
            FuzzTargets.VfioUserClient => VfioUserClientSeeds.Create(),
            FuzzTargets.VirtioBlk => Virtio.VirtqueueSeeds.Create(),
            _ => throw new ArgumentException($"unknown target '{target}'", nameof(target)),
        };
        foreach (var (name, bytes) in seeds) File.WriteAllBytes(Path.Combine(directory, name), bytes);
        return seeds.Count;
    }

    // ------------------------------------------------------------------ nvme

    private static List<(string, byte[])> Nvme()
    {
        var seeds = new List<(string, byte[])>();
        // Episodes (first byte even): every byte string is a valid episode; a few lengths and seeds.
        var random = new Random(20261203);
        foreach (int length in new[] { 64, 256, 1024, 4096 })
        {
            var bytes = new byte[1 + length];
            random.NextBytes(bytes);
            bytes[0] = 0;
            seeds.Add(($"episode-{length}", bytes));
        }
        // Raw driver (first byte odd).
        seeds.Add(("raw-identify", Raw(r => r.Enable().Admin(Identify(1), relocate: 1))));
        seeds.Add(("raw-io", Raw(r => r.Enable().Pair(1, 8).Io(1, IoEntry(1, 0, 0, 0x4_0000, 0)).Io(1, IoEntry(2, 0, 0, 0x4_1000, 0)).Poll())));
        seeds.Add(("raw-prp-list", Raw(r => r.Enable().Pair(2, 16).List(0, 0, 8).Io(2, IoEntry(1, 0, 15, 0x4_0000, 0xC_0000)).Io(2, IoEntry(2, 0, 15, 0x4_8000, 0xC_0000)))));
        seeds.Add(("raw-dbbuf", Raw(r => r.Enable().Pair(1, 8).Dbbuf().Shadow(1, 1).Poll().Shadow(1, 2).Process(1).Polling().Poll())));
        seeds.Add(("raw-registers", Raw(r => r.Enable().Mmio(0x14, 4, 0).Mmio(0x14, 4, 0x0046_0001).Mmio(0x1C, 4, 0x10).Mmio(0x20, 4, 0x4E564D65).Mmio(0x14, 4, 0x0046_4001))));
        seeds.Add(("raw-doorbells", Raw(r => r.Enable().Pair(3, 4).Doorbell(6, 9).Doorbell(7, 3).Doorbell(40, 1).Unmap().Poll().Unmap().Reset())));
        return seeds;
    }

    private static byte[] Raw(Func<RawBuilder, RawBuilder> build) => build(new RawBuilder()).ToArray();

    private static byte[] Identify(byte cns)
    {
        var e = new byte[64];
        e[0] = 0x06;
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(e.AsSpan(24), 0x4_0000);
        e[40] = cns;
        return e;
    }

    private static byte[] IoEntry(byte opcode, ulong slba, ushort blocksMinusOne, ulong prp1Offset, ulong prp2Offset)
    {
        var e = new byte[64];
        e[0] = opcode;
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(e.AsSpan(24), prp1Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(e.AsSpan(32), prp2Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(e.AsSpan(40), slba);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(48), blocksMinusOne);
        return e;
    }

    /// <summary>Operations of <c>RawControllerDriver</c> (fuzz/ShadowIo.Fuzz.Nvme), in its byte encoding.</summary>
    private sealed class RawBuilder
    {
        private readonly List<byte> _b = [];

        public RawBuilder() => _b.Add(1);

        public byte[] ToArray() => [.. _b];

        private RawBuilder Op(params ReadOnlySpan<byte> bytes)
        {
            _b.AddRange(bytes);
            return this;
        }

        public RawBuilder Enable() => Op(0, 0);

        public RawBuilder Mmio(ushort offset, int size, ulong value)
        {
            Span<byte> v = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(v, value);
            byte mode = (byte)(size switch { 1 => 0, 2 => 1, 4 => 2, _ => 4 });
            return Op(1, mode, (byte)offset, (byte)(offset >> 8)).Op(v);
        }

        public RawBuilder Admin(byte[] entry, int relocate) => Op(3, (byte)relocate).Op(entry);

        public RawBuilder Io(int qid, byte[] entry) => Op(4, (byte)(qid - 1), 3).Op(entry);

        public RawBuilder Pair(int qid, int size) => Op(5, (byte)(qid - 1), (byte)(size - 2), 0);

        public RawBuilder List(int page, int slot, int count)
        {
            Op(7, (byte)page, (byte)slot, (byte)count);
            for (int i = 0; i < count; i++) Op((byte)(0x50 + i), 0);
            return this;
        }

        public RawBuilder Shadow(int qid, byte value) => Op(8, (byte)qid, value);

        public RawBuilder Dbbuf() => Op(9, 0);

        public RawBuilder Poll() => Op(10);

        public RawBuilder Process(int row) => Op(11, (byte)(row + 2));

        public RawBuilder Polling() => Op(12);

        public RawBuilder Doorbell(int row, byte value) => Op(13, (byte)row, value);

        public RawBuilder Unmap() => Op(14);

        public RawBuilder Reset() => Op(15);
    }
}
