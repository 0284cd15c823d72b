using CsCheck;
using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Protocol;

/// <summary>
/// Random bytes and fd counts into every decoder: none throws, each answers 0 or one of the errnos
/// the protocol replies with, a refusal leaves its outputs empty, and whatever is accepted
/// re-encodes to bytes that decode to the same message.
/// </summary>
public sealed class HostileBytesPropertyTests
{
    private static readonly int[] Errnos = [0, EINVAL, E2BIG, ENOTSUP];
    private static readonly ProtocolLimits Limits = new(256, 8);

    /// <summary>Mostly short payloads (where the structure checks bite), sometimes long ones, with a plausible fd count.</summary>
    private static readonly Gen<(byte[] Payload, int Fds)> Input = Gen.Select(
        Gen.Frequency((4, Gen.Byte.Array[0, 64]), (1, Gen.Byte.Array[0, 600])),
        Gen.Frequency((4, Gen.Int[0, 3]), (1, Gen.Int[0, 20])));

    [Fact]
    public void No_decoder_throws_and_each_answers_a_protocol_errno()
    {
        Input.Sample(input =>
        {
            var (payload, fds) = input;
            Answer(MessageHeader.TryRead(payload, out var header) ? header.Validate(Limits.MaxMessageSize) : 0);
            Answer(VersionMessage.Decode(payload, out _));
            Answer(DmaMapRequest.Decode(payload, fds, out _));
            Answer(DmaUnmapRequest.Decode(payload, fds, out _));
            Answer(DeviceInfo.DecodeRequest(payload, fds));
            Answer(DeviceInfo.DecodeReply(payload, out _));
            Answer(RegionInfo.DecodeRequest(payload, fds, out _, out _));
            Answer(RegionInfo.DecodeReply(payload, fds, out _, out var areas));
            for (int i = 0; i < areas.Count; i++)
                _ = areas[i];
            Answer(RegionIoFds.DecodeRequest(payload, fds, out _, out _));
            Answer(RegionIoFds.DecodeReply(payload, fds, out _, out _, out var entries));
            for (int i = 0; i < entries.Count; i++)
                _ = entries[i];
            Answer(IrqInfo.DecodeRequest(payload, fds, out _));
            Answer(IrqInfo.DecodeReply(payload, out _));
            Answer(IrqSetRequest.Decode(payload, fds, out _, out _));
            Answer(RegionAccess.DecodeReadRequest(payload, fds, Limits, out var read));
            Answer(RegionAccess.DecodeReadReply(payload, read, out _));
            Answer(RegionAccess.DecodeWriteRequest(payload, fds, Limits, out _, out _));
            Answer(RegionWriteMulti.DecodeRequest(payload, fds, out var writes));
            for (int i = 0; i < writes.Count; i++)
                _ = writes[i].Data.Length;
            Answer(RegionWriteMulti.DecodeReply(payload, fds, out _));
            foreach (var layout in new[] { DmaMessageLayout.Spec, DmaMessageLayout.Qemu })
            {
                Answer(DmaAccess.DecodeRequest(payload, fds, layout, isWrite: false, Limits, out var dma, out _));
                Answer(DmaAccess.DecodeRequest(payload, fds, layout, isWrite: true, Limits, out _, out _));
                Answer(DmaAccess.DecodeReply(payload, layout, isWrite: false, dma, out _));
                Answer(DmaAccess.DecodeReply(payload, layout, isWrite: true, dma, out _));
            }
            Answer(DeviceReset.DecodeRequest(payload, fds));
        }, iter: 20_000);
    }

    [Fact]
    public void Whatever_is_accepted_re_encodes_to_the_same_message()
    {
        Input.Sample(input =>
        {
            // One buffer per sample: CsCheck runs samples on several threads at once.
            var buffer = new byte[4096];
            var (payload, fds) = input;
            if (VersionMessage.Decode(payload, out var version) == 0)
            {
                int n = version.Encode(buffer);
                Assert.Equal(0, VersionMessage.Decode(buffer.AsSpan(0, n), out var again));
                Assert.Equal(version, again);
            }
            if (DmaMapRequest.Decode(payload, fds, out var map) == 0)
            {
                Assert.Equal(0, DmaMapRequest.Decode(buffer.AsSpan(0, map.Encode(buffer)), fds, out var again));
                Assert.Equal(map, again);
            }
            if (DmaUnmapRequest.Decode(payload, fds, out var unmap) == 0)
            {
                Assert.Equal(0, DmaUnmapRequest.Decode(buffer.AsSpan(0, unmap.Encode(buffer)), fds, out var again));
                Assert.Equal(unmap, again);
            }
            if (IrqSetRequest.Decode(payload, fds, out var set, out var data) == 0)
            {
                Assert.Equal(0, IrqSetRequest.Decode(buffer.AsSpan(0, set.Encode(buffer, data)), fds, out var again, out var againData));
                Assert.Equal(set, again);
                Assert.True(data.SequenceEqual(againData));
            }
            if (RegionAccess.DecodeWriteRequest(payload, fds, Limits, out var write, out var written) == 0)
            {
                Assert.Equal(0, RegionAccess.DecodeWriteRequest(buffer.AsSpan(0, write.Encode(buffer, written)), fds, Limits, out var again, out var againData));
                Assert.Equal(write, again);
                Assert.True(written.SequenceEqual(againData));
            }
            if (RegionIoFds.DecodeReply(payload, fds, out uint index, out int count, out var entries) == 0 && entries.Count == count)
            {
                var list = new RegionIoFdEntry[entries.Count];
                for (int i = 0; i < list.Length; i++)
                    list[i] = entries[i];
                var (n, _) = RegionIoFds.EncodeReply(buffer, uint.MaxValue, index, list);
                Assert.Equal(0, RegionIoFds.DecodeReply(buffer.AsSpan(0, n), fds, out _, out _, out var again));
                for (int i = 0; i < list.Length; i++)
                    Assert.Equal(list[i], again[i]);
            }
        }, iter: 20_000);
    }

    private static void Answer(int errno) => Assert.Contains(errno, Errnos);
}
