using System.Buffers.Binary;
using ShadowIo.Qemu.Protocol;
using ShadowIo.Fuzz.Nvme;

namespace ShadowIo.Fuzz;

/// <summary>
/// The starting corpus of each target: short, valid sessions that reach deep state (enabled
/// controller, I/O queues, Doorbell Buffer Config; enumerated BAR, mapped RAM, a command fetched
/// through proxy-mapped memory), plus a few broken ones. AFL++ mutates from there.
/// </summary>
public static class Seeds
{
    public static int Write(string target, string directory)
    {
        Directory.CreateDirectory(directory);
        var seeds = target switch
        {
            FuzzTargets.Nvme => Nvme(),
            FuzzTargets.QemuProxy => QemuProxy(),
            FuzzTargets.VfioUser => VfioUserSeeds.Create(),
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

    // ------------------------------------------------------------------ qemu-proxy

    private const uint Bar0 = 0xfebf_0000;

    private static List<(string, byte[])> QemuProxy()
    {
        var seeds = new List<(string, byte[])>();
        seeds.Add(("enumerate", Enumerate(new ProxyInputBuilder()).ConfigRead(0, 4).ConfigRead(0x08, 4).ConfigRead(0x3C, 2).BarRead(Bar0, 8).ToArray()));
        seeds.Add(("bar-sizing", new ProxyInputBuilder().ConfigWrite(0x10, 0xFFFF_FFFF, 4).ConfigRead(0x10, 4).ConfigWrite(0x10, Bar0, 4)
            .ConfigWrite(0x04, 0x0006, 2).ConfigRead(0x04, 2).ConfigWrite(0x30, 0xFFFF_F800, 4).ConfigRead(0x30, 4).ToArray()));
        seeds.Add(("admin-identify", AdminSession().ToArray()));
        seeds.Add(("irqfd-reset", Enumerate(new ProxyInputBuilder()).Message(MpqemuCommand.SetIrqfd, [], fds: 2, rotation: 2)
            .ConfigWrite(0x04, 0x0406, 2).Message(MpqemuCommand.DeviceReset, []).ConfigRead(0x10, 4).ToArray()));
        seeds.Add(("sysmem-remap", new ProxyInputBuilder().SyncSysmem([(0, 0x1_0000, 0)], rotation: 1).SyncSysmem([(0, 0x8_0000, 0), (0x10_0000, 0x1_0000, 0)])
            .SyncSysmem([(0x1000, 0x10_0000, 0)]).SyncSysmem([]).ToArray()));
        seeds.Add(("broken", new ProxyInputBuilder().Message((MpqemuCommand)99, [1, 2, 3]).Message(MpqemuCommand.BarRead, new byte[5])
            .Message(MpqemuCommand.PciConfigRead, new byte[12], fds: 1).Raw([1, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0]).ToArray()));
        // One message split over several sends, and several messages in one send.
        var split = new ProxyInputBuilder().ConfigRead(0, 4).ToArray();
        seeds.Add(("framing", new ProxyInputBuilder().Raw(split.AsSpan(2, 5)).Raw(split.AsSpan(7, 20)).Raw([.. split.AsSpan(2).ToArray(), .. split.AsSpan(2).ToArray()]).ToArray()));
        return seeds;
    }

    private static ProxyInputBuilder Enumerate(ProxyInputBuilder b) => b.ConfigWrite(0x10, Bar0, 4).ConfigWrite(0x04, 0x0006, 2);

    /// <summary>RAM mapped from the 1 MiB memfd, the controller enabled and an Identify fetched from proxy-mapped memory.</summary>
    private static ProxyInputBuilder AdminSession()
    {
        const ulong asq = 0x1_0000, acq = 0x2_0000, data = 0x3_0000;
        var b = Enumerate(new ProxyInputBuilder()).SyncSysmem([(0, 1 << 20, 0)]);
        b.BarWrite(Bar0 + 0x24, 0x000F_000F, 4).BarWrite(Bar0 + 0x28, asq, 8).BarWrite(Bar0 + 0x30, acq, 8).BarWrite(Bar0 + 0x14, 0x0046_0001, 4).BarRead(Bar0 + 0x1C, 4);
        var identify = new byte[64];
        identify[0] = 0x06;
        identify[2] = 1;
        BinaryPrimitives.WriteUInt64LittleEndian(identify.AsSpan(24), data);
        identify[40] = 1;
        b.RamWrite(0, (int)asq, identify).BarWrite(Bar0 + 0x1000, 1, 4).BarWrite(Bar0 + 0x1004, 1, 4);
        // Create I/O CQ 1 and SQ 1, then a write on it (trapped doorbell, picked up by the poll).
        var createCq = new byte[64];
        createCq[0] = 0x05;
        createCq[2] = 2;
        BinaryPrimitives.WriteUInt64LittleEndian(createCq.AsSpan(24), 0x5_0000);
        BinaryPrimitives.WriteUInt32LittleEndian(createCq.AsSpan(40), 1 | 7 << 16);
        createCq[44] = 1;
        var createSq = (byte[])createCq.Clone();
        createSq[0] = 0x01;
        createSq[2] = 3;
        BinaryPrimitives.WriteUInt64LittleEndian(createSq.AsSpan(24), 0x4_0000);
        BinaryPrimitives.WriteUInt32LittleEndian(createSq.AsSpan(44), 1 | 1 << 16);
        b.RamWrite(0, (int)asq + 64, createCq).RamWrite(0, (int)asq + 128, createSq).BarWrite(Bar0 + 0x1000, 3, 4);
        var write = new byte[64];
        write[0] = 0x01;
        BinaryPrimitives.WriteUInt32LittleEndian(write.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(write.AsSpan(24), data);
        b.RamWrite(0, 0x4_0000, write).BarWrite(Bar0 + 0x1008, 1, 4);
        return b;
    }
}
