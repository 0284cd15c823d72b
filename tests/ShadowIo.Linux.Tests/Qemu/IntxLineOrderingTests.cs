using Xunit;
using ShadowIo.Qemu.Interrupts;
using ShadowIo.Pci;

namespace ShadowIo.Linux.Tests.Qemu;

/// <summary>
/// Issue 12: <see cref="IntxLine"/> published level changes out of order (the handler ran after
/// the line's lock was released), and its handler mutated config space from the device's thread
/// while the server thread read it. The line now notifies in order under its lock and config
/// space takes its own lock.
/// </summary>
public sealed class IntxLineOrderingTests
{
    private static readonly PciIdentity Identity = new(0x1b36, 0x1234, 0x010802);

    /// <summary>
    /// Two device threads raise and lower the line as fast as they can while a server thread
    /// reads the status register. Every notification is a change, so consecutive notifications
    /// must alternate; and once the threads stop, Interrupt Status must equal the line's level.
    /// Out-of-order publication breaks both (A changes to high, B to low, B's notification runs
    /// before A's: two lows... and status high under a low line).
    /// </summary>
    [Fact]
    public void Level_changes_reach_config_space_once_each_in_the_order_the_line_took_them()
    {
        for (int round = 0; round < 50; round++)
        {
            using var line = new IntxLine();
            var config = new PciConfigSpace(Identity, []);
            var published = new List<bool>(capacity: 1 << 16);
            line.LevelChanged += level =>
            {
                published.Add(level);   // not locked: the line promises one notification at a time
                config.SetInterruptStatus(level);
            };
            bool stop = false;
            long reads = 0;
            var server = new Thread(() =>
            {
                while (!Volatile.Read(ref stop))
                {
                    uint status = config.Read(PciConfigSpace.StatusOffset, 2);
                    Assert.Equal(0u, status & ~(uint)PciConfigSpace.StatusInterrupt);
                    reads++;
                }
            }) { IsBackground = true };
            server.Start();
            var devices = Enumerable.Range(0, 2).Select(t => new Thread(() =>
            {
                var random = new Random(round * 2 + t);
                for (int i = 0; i < 20_000; i++) line.SetLevel(random.Next(2) == 0);
            }) { IsBackground = true }).ToArray();
            foreach (var d in devices) d.Start();
            foreach (var d in devices) d.Join();
            Volatile.Write(ref stop, true);
            server.Join();

            for (int i = 1; i < published.Count; i++)
                Assert.True(published[i] != published[i - 1], $"round {round}: notifications {i - 1} and {i} are both {published[i]}");
            bool statusBit = (config.Read(PciConfigSpace.StatusOffset, 2) & PciConfigSpace.StatusInterrupt) != 0;
            Assert.Equal(line.Level, statusBit);
            if (published.Count > 0) Assert.Equal(line.Level, published[^1]);
            Assert.True(reads > 0);
        }
    }
}
