using ShadowIo.Fuzz.Virtio;
using Xunit;

namespace ShadowIo.Virtio.Tests.Queues;

/// <summary>
/// The fuzz target's invariants (no escaped exception, no internal error, no write outside RAM,
/// used elements inside the queue, a reset always recovers) over seeded random inputs and random
/// mutations of the seeds: a property run in every test pass, beside the AFL++ corpus replay.
/// </summary>
public sealed class RandomDriverTests
{
    [Fact]
    public void Random_operation_streams_keep_every_invariant()
    {
        var random = new Random(20261204);
        var buffer = new byte[512];
        for (int i = 0; i < 1500; i++)
        {
            int length = random.Next(1, buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            VirtqueueByteFuzzer.Run(buffer.AsSpan(0, length));
        }
    }

    [Fact]
    public void Mutated_seeds_keep_every_invariant()
    {
        var random = new Random(7);
        foreach (var (_, seed) in VirtqueueSeeds.Create())
        {
            for (int i = 0; i < 200; i++)
            {
                var input = seed.ToArray();
                for (int flips = random.Next(1, 6); flips > 0; flips--) input[random.Next(input.Length)] = (byte)random.Next(256);
                VirtqueueByteFuzzer.Run(input);
            }
        }
    }
}
