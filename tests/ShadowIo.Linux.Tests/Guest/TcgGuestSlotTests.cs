using System.Diagnostics;
using ShadowIo.LinuxGuest;
using Xunit;

namespace ShadowIo.Linux.Tests.Guest;

/// <summary>The machine-wide one-guest-at-a-time lock, seen from another process and from this one.</summary>
public sealed class TcgGuestSlotTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"shadowio-slot-{Guid.NewGuid():N}", "tcg-guest.lock");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_path)!, recursive: true);

    [Fact]
    public async Task Another_process_cannot_take_the_slot_until_it_is_released()
    {
        var ct = TestContext.Current.CancellationToken;
        using (await TcgGuestSlot.AcquireAsync(_path, ct))
            Assert.Equal(1, await FlockNonBlocking(ct));   // util-linux flock -n: 1 when the lock is held
        Assert.Equal(0, await FlockNonBlocking(ct));
    }

    [Fact]
    public async Task A_second_taker_waits_for_the_first_and_can_give_up()
    {
        var ct = TestContext.Current.CancellationToken;
        var first = await TcgGuestSlot.AcquireAsync(_path, ct);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
        giveUp.CancelAfter(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TcgGuestSlot.AcquireAsync(_path, giveUp.Token));

        var second = TcgGuestSlot.AcquireAsync(_path, ct);
        Assert.False(second.IsCompleted);
        first.Dispose();
        using var taken = await second.WaitAsync(TimeSpan.FromSeconds(30), ct);
    }

    private async Task<int> FlockNonBlocking(CancellationToken ct)
    {
        using var flock = Process.Start(new ProcessStartInfo("flock", ["-n", _path, "true"]) { UseShellExecute = false })!;
        await flock.WaitForExitAsync(ct);
        return flock.ExitCode;
    }
}
