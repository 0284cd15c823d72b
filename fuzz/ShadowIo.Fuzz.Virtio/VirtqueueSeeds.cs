using System.Numerics;

namespace ShadowIo.Fuzz.Virtio;

/// <summary>
/// Hand-made inputs of <see cref="VirtqueueByteFuzzer"/>, in its byte encoding: clean sessions that
/// reach deep state (negotiated features, enabled queues, requests served, polling hand-over) and
/// the hostile rings the tests name, for AFL++ to mutate from.
/// </summary>
public static class VirtqueueSeeds
{
    /// <summary>Every seed by file name.</summary>
    public static List<(string Name, byte[] Bytes)> Create()
    {
        const ulong linux = (ulong)(VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx | VirtioFeatures.RingIndirectDesc
            | VirtioFeatures.BlkSegMax | VirtioFeatures.BlkBlockSize | VirtioFeatures.BlkFlush | VirtioFeatures.BlkMultiQueue);
        Input Ready(int queues = 1)
        {
            var input = new Input().Negotiate(linux);
            for (int q = 0; q < queues; q++) input.SetUpQueue(q, sizeShift: 4);
            return input.DriverOk();
        }
        return
        [
            ("write-read", Ready().Request(0, first: 0, type: 1, data: 0, sectors: 8, sector: 16, indirect: false)
                .Request(0, first: 4, type: 0, data: 16, sectors: 8, sector: 16, indirect: true).Request(0, first: 8, type: 8, data: 40, sectors: 1, sector: 0, indirect: false).Bytes()),
            ("two-queues-flush", Ready(queues: 2).Request(1, first: 0, type: 4, data: 0, sectors: 0, sector: 0, indirect: false)
                .Request(0, first: 0, type: 1, data: 0, sectors: 2, sector: 100, indirect: true).Bytes()),
            ("polling-hand-over", Ready().Polling(true).Request(0, 0, 1, 0, 4, 8, false).Request(0, 4, 0, 8, 4, 8, false).Polling(false)
                .Request(0, 8, 0, 8, 4, 8, true).Bytes()),
            ("looping-chain", Ready().Descriptor(0, 0, addressKind: 2, length: 16, flags: 1, next: 1).Descriptor(0, 1, addressKind: 4, length: 512, flags: 1, next: 0)
                .Publish(0, 0).Notify(0).Bytes()),
            ("bad-avail-idx", Ready().AvailIdx(0, 200).Notify(0).Bytes()),
            ("nested-indirect", Ready().Descriptor(0, 0, addressKind: 3, length: 16, flags: 4, next: 0, indirectSlot: 0)
                .Descriptor(0, 0, addressKind: 3, length: 32, flags: 4, next: 0).Publish(0, 0).Notify(0).Bytes()),
            ("reset-midway", Ready().Request(0, 0, 1, 0, 2, 0, false).Reset().Negotiate(linux).SetUpQueue(0, 3).DriverOk().Request(0, 0, 0, 0, 2, 0, false).Bytes()),
            ("bar-writes", new Input().BarWrite(0x14, 1, 0x0F).BarWrite(0x16, 2, 0).BarWrite(0x18, 2, 3).BarWrite(0x1C, 2, 1).BarWrite(0x3000, 2, 0)
                .BarRead(0x1000, 1).BarWrite(0x2000, 4, 0xFFFF_FFFF).BarWrite(0x14, 1, 0).Bytes()),
        ];
    }

    /// <summary>Builds an input operation by operation, in the order <see cref="VirtqueueByteFuzzer"/> reads it.</summary>
    private sealed class Input
    {
        private readonly List<byte> _bytes = [];

        public byte[] Bytes() => [.. _bytes];

        private Input Op(int q, int op) => Add((byte)q).Add((byte)op);

        private Input Add(byte b)
        {
            _bytes.Add(b);
            return this;
        }

        private Input U16(ushort v) => Add((byte)v).Add((byte)(v >> 8));

        private Input U32(uint v) => U16((ushort)v).U16((ushort)(v >> 16));

        private Input U64(ulong v) => U32((uint)v).U32((uint)(v >> 32));

        public Input Negotiate(ulong features) => Op(0, 0).U64(features);

        /// <summary>Queue size 1 &lt;&lt; <paramref name="sizeShift"/> (the fuzzer's "power of two" branch).</summary>
        public Input SetUpQueue(int q, int sizeShift) => Op(q, 1).Add((byte)(sizeShift % 3 == 0 ? sizeShift + 8 : sizeShift));

        public Input DriverOk() => Op(0, 2);

        /// <summary>A raw descriptor in queue <paramref name="q"/>'s table, or in indirect table <paramref name="indirectSlot"/> (0–3).</summary>
        public Input Descriptor(int q, int index, int addressKind, uint length, ushort flags, ushort next, int indirectSlot = -1)
        {
            Op(q, 3);
            if (indirectSlot < 0) Add(1);
            else Add(0).Add((byte)indirectSlot);
            Add((byte)index).Add((byte)addressKind);
            switch (addressKind % 8)
            {
                case 0: U64(0); break;
                case 1: U16(0); break;
                case 2: case 3: Add(0); break;
                default: U16(0); break;
            }
            return U32(length).Add(1).U16(flags).U16(next);
        }

        public Input Publish(int q, ushort head) => Op(q, 4).U16(head);

        public Input AvailIdx(int q, ushort idx) => Op(q, 5).U16(idx);

        public Input Notify(int q) => Op(q, 6).Add(0);

        public Input BarWrite(ushort offset, int size, ulong value) => Op(0, 7).U16(offset).Add((byte)BitOperations.Log2((uint)size)).U64(value);

        public Input BarRead(ushort offset, int size) => Op(0, 8).U16(offset).Add((byte)BitOperations.Log2((uint)size));

        public Input Request(int q, int first, int type, int data, int sectors, ushort sector, bool indirect) =>
            Op(q, 9).Add((byte)first).Add((byte)type).Add((byte)data).Add((byte)sectors).Add(1).U16(sector).Add(indirect ? (byte)1 : (byte)0);

        public Input Polling(bool on) => Op(0, 10).Add(on ? (byte)1 : (byte)0);

        public Input Reset() => Op(0, 12);
    }
}
