using System.Buffers.Binary;
using System.Diagnostics;
using Iced.Intel;
using ShadowIo.Benchmarks.VfioUser;
using ShadowIo.Binding;
using ShadowIo.Testing;
using ShadowIo.VfioUser.Client;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.VfioUser.Tests.Client;

/// <summary>
/// The device process dies under a live link (SIGKILL, as the OOM killer or a user would): our
/// <see cref="VfioUserClient"/> must end every VMM call in a <see cref="VfioUserException"/> and
/// keep the MMIO path protocol-correct (reads all ones, writes dropped, each counted), never hang
/// and never throw on a vCPU thread; the device's <see cref="VfioUserDeviceProcess.ExitDescription"/>
/// names the exit.
/// </summary>
public sealed class DeviceProcessDeathTests
{
    private const ulong Bar0Gpa = 0xE000_0000;
    private const ulong ReadOffset = 0x100;
    private const int SigKillExitCode = 128 + 9;

    /// <summary>Bounds only a hang: each step takes milliseconds.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void Config_access_after_the_device_process_is_killed_throws_a_vfio_user_exception()
    {
        using var peer = DeviceProcess.Start();
        using var client = VfioUserClient.Connect(peer.SocketPath);
        ushort vendor = (ushort)client.ReadConfig(0, 2);
        Assert.NotEqual(0xFFFF, vendor);

        Kill(peer);

        var first = Bounded(() => Assert.Throws<VfioUserException>(() => client.ReadConfig(0, 2)));
        Assert.Matches("^RegionRead: the server (closed the link|has gone)$", first.Message);
        // The link is marked broken: later calls fail at once, without touching the socket.
        var later = Bounded(() => Assert.Throws<VfioUserException>(() => client.WriteConfig(4, 2, 0)));
        Assert.Equal("RegionWrite: the link to the server is closed", later.Message);
        Bounded(() => { client.Dispose(); return 0; });
    }

    public static TheoryData<string> Modes => ["region-write", "trap", "ioeventfd"];

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_guest_touching_the_bar_of_a_killed_device_process_reads_all_ones_and_finishes(string mode)
    {
        RequireKvm.Present();
        using var peer = DeviceProcess.Start();
        using var guest = TestGuest.Create();
        var client = VfioUserClient.Connect(peer.SocketPath);
        client.MapGuestMemory(guest.Vm);
        var bus = new MmioBus();
        var bar0 = client.AttachBar(0, Bar0Gpa, bus, guest.Vm, Parse(mode));
        Assert.Equal(0x5a00_0000UL | ReadOffset, bar0.ReadMmio(ReadOffset, 4));

        Kill(peer);
        long messagesBefore = client.RegionReads + client.RegionWrites;

        // Every doorbell rung (each reaches KVM's eventfds, the trap path or a REGION_WRITE, by
        // mode), a plain register written, one read back into RAM.
        var table = DoorbellDevice.Table;
        var a = new Assembler(64);
        DoorbellSequence.EmitWrites(a, table, Bar0Gpa, guestShadowGpa: null, DoorbellSequence.Create(table, seed: 137, writesPerRow: 2));
        a.mov(eax, 1);
        a.mov(__dword_ptr[rbx + (int)DoorbellDevice.RaiseVectorOffset], eax);
        a.mov(eax, __dword_ptr[rbx + (int)ReadOffset]);
        a.mov(rcx, GuestLayout.Data);
        a.mov(__dword_ptr[rcx], eax);
        TestGuest.EmitFinish(a);
        guest.Load(a);
        var result = Bounded(() => guest.RunToFinish(bus));

        Span<byte> word = stackalloc byte[4];
        Assert.True(guest.Memory.TryRead(GuestLayout.Data, word));
        Assert.Equal(0xFFFF_FFFFu, BinaryPrimitives.ReadUInt32LittleEndian(word));
        Assert.Equal(0, result.UnmappedAccesses);
        // Each access that needed the device failed (the first as "closed the link", the rest at
        // once on the broken link), and nothing else did: the register write and the read at least.
        long failed = client.FailedAccesses;
        Assert.Equal(client.RegionReads + client.RegionWrites - messagesBefore, failed);
        Assert.True(failed >= 2, $"{failed} failed accesses; the register write and the read at least must have failed.");
        Assert.Equal(ulong.MaxValue, bar0.ReadMmio(ReadOffset, 8));
        Assert.Equal(failed + 1, client.FailedAccesses);
        Bounded(() => { client.Dispose(); return 0; });
    }

    private static DoorbellBindingMode? Parse(string mode) => mode switch
    {
        "region-write" => null,
        "trap" => DoorbellBindingMode.Trap,
        "ioeventfd" => DoorbellBindingMode.GuestShadow,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary>SIGKILL (what .NET's Kill sends on Linux), then the exit as the VMM reports it.</summary>
    private static void Kill(DeviceProcess peer)
    {
        int pid = peer.Id;
        using (var process = Process.GetProcessById(pid)) process.Kill();
        Assert.True(ProcessTree.Ends(pid, Patience), $"the device process {pid} outlived SIGKILL.");
        string? exit = null;
        long deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
        while ((exit = peer.ExitDescription) is null && Environment.TickCount64 < deadline) Thread.Sleep(20);
        Assert.NotNull(exit);
        Assert.StartsWith($"the vfio-user device process {pid} exited with code {SigKillExitCode}", exit);
        Assert.DoesNotContain('\n', exit);
    }

    /// <summary>Runs <paramref name="step"/> on another thread and fails the test if it hangs.</summary>
    private static T Bounded<T>(Func<T> step)
    {
        var task = Task.Factory.StartNew(step, TaskCreationOptions.LongRunning);
        Assert.True(task.Wait(Patience), $"the step did not end within {Patience.TotalSeconds} s after the device process died.");
        return task.Result;
    }
}
