using Xunit;
using System.Buffers.Binary;
using System.Text.Json;
using Iced.Intel;
using ShadowIo.Benchmarks.VfioUser;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Pci;
using ShadowIo.Testing;
using ShadowIo.VfioUser.Client;
using ShadowIo.VfioUser.Server;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.VfioUser.Tests.Client;

/// <summary>
/// Our VMM's vfio-user client on /dev/kvm: a CPL3 guest rings every doorbell of a device served
/// by a <see cref="VfioUserServer"/> (in another thread, and in another process), reads a
/// register through REGION_READ and makes the device raise an MSI-X vector. In every mode the
/// device must count exactly the signals KVM's rule gives and read the last value of each value
/// doorbell from its shadow; datamatch misses reach its dispatch; the exits and messages say
/// which path each write took.
/// </summary>
public sealed class ClientDoorbellTests
{
    private const ulong Bar0Gpa = 0xE000_0000;
    private const ulong ReadOffset = 0x100;
    private const int RaisedVector = 2;

    public static TheoryData<string> Modes => ["region-write", "trap", "ioeventfd"];

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_guest_rings_a_device_served_in_another_thread(string mode)
    {
        RequireKvm.Present();
        using var directory = new TempDirectory();
        string socket = Path.Combine(directory.Path, "device.sock");
        var device = new DoorbellDevice();
        using var doorbells = DoorbellSet.Create(DoorbellDevice.Table);
        var msix = new MsixTable(DoorbellDevice.Vectors);
        using var server = new VfioUserServer(device.Function(doorbells, msix));
        device.RaiseVector = server.Interrupts.Raise;
        var serving = server.Serve(socket);

        var run = RunGuest(socket, Parse(mode));
        WaitForEnd(serving);

        var table = DoorbellDevice.Table;
        var signals = Enumerable.Range(0, table.Count).Select(row => doorbells.TakeSignals(row)).ToArray();
        var values = Enumerable.Range(0, table.Count).Select(row => table[row].Kind == DoorbellKind.Value ? doorbells.Shadow.Read(table[row].ShadowOffset, table[row].Width) : 0).ToArray();
        Check(run, signals, values, device.Dispatched);
        // Guest RAM is the server's by DMA_MAP with the memfd: the word the guest stored is there.
        Span<byte> word = stackalloc byte[4];
        Assert.True(server.GuestMemory.TryRead(GuestLayout.Data, word));
        Assert.Equal(ExpectedRead, BinaryPrimitives.ReadUInt32LittleEndian(word));
        Assert.Equal(run.RegionWrites, server.Statistics.RegionWrites - run.SetupRegionWrites);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_guest_rings_a_device_in_another_process(string mode)
    {
        RequireKvm.Present();
        using var peer = DeviceProcess.Start();
        var run = RunGuest(peer.SocketPath, Parse(mode));

        using var report = peer.ReadReport();
        var root = report.RootElement;
        var signals = root.GetProperty("signals").EnumerateArray().Select(e => e.GetUInt64()).ToArray();
        var values = root.GetProperty("values").EnumerateArray().Select(e => e.GetUInt64()).ToArray();
        var dispatched = root.GetProperty("dispatched").EnumerateArray()
            .Select(e => (e[0].GetUInt64(), (int)e[1].GetUInt64(), e[2].GetUInt64())).ToArray();
        Check(run, signals, values, dispatched);
        Assert.Equal(1, root.GetProperty("dma_maps").GetInt32());
        Assert.Equal(run.RegionWrites, root.GetProperty("region_writes").GetInt64() - run.SetupRegionWrites);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("end").ValueKind);
    }

    [Fact]
    public void Post_write_is_probed_and_used_only_where_the_kernel_has_it()
    {
        RequireKvm.Present();
        using var directory = new TempDirectory();
        string socket = Path.Combine(directory.Path, "device.sock");
        var device = new DoorbellDevice();
        using var doorbells = DoorbellSet.Create(DoorbellDevice.Table);
        using var server = new VfioUserServer(device.Function(doorbells, new MsixTable(DoorbellDevice.Vectors)));
        device.RaiseVector = server.Interrupts.Raise;
        var serving = server.Serve(socket);
        using var guest = TestGuest.Create();
        if (guest.Vm.SupportsIoEventFdPostWrite)
        {
            // A patched kernel (the TCG guest's): the same run, and no value doorbell exits.
            var run = RunGuest(socket, DoorbellBindingMode.KernelPostWrite);
            WaitForEnd(serving);
            var table = DoorbellDevice.Table;
            Check(run,
                [.. Enumerable.Range(0, table.Count).Select(row => doorbells.TakeSignals(row))],
                [.. Enumerable.Range(0, table.Count).Select(row => table[row].Kind == DoorbellKind.Value ? doorbells.Shadow.Read(table[row].ShadowOffset, table[row].Width) : 0)],
                device.Dispatched);
            return;
        }
        using var client = VfioUserClient.Connect(socket);
        client.MapGuestMemory(guest.Vm);
        var bus = new MmioBus();
        var e = Assert.Throws<KvmException>(() => client.AttachBar(0, Bar0Gpa, bus, guest.Vm, DoorbellBindingMode.KernelPostWrite));
        Assert.Equal(KvmError.Unsupported, e.Error);
        Assert.Empty(bus.Ranges.ToArray());
        // The server's fds came and went with the refused binding; the link still serves.
        Assert.Equal(0x5a00_0000UL | ReadOffset, client.AttachBar(0, Bar0Gpa, bus, guest.Vm, null).ReadMmio(ReadOffset, 4));
    }

    private const uint ExpectedRead = 0x5a00_0000 | (uint)ReadOffset;

    private sealed record GuestRun(
        DoorbellBindingMode? Mode, DoorbellWrite[] Writes, GuestRunResult Result, long RegionWrites, long RegionReads,
        long SetupRegionWrites, ulong Raised, int AssignedIoEventFds, uint GuestRead);

    private static DoorbellBindingMode? Parse(string mode) => mode switch
    {
        "region-write" => null,
        "trap" => DoorbellBindingMode.Trap,
        "ioeventfd" => DoorbellBindingMode.GuestShadow,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary>Connects, shares RAM, attaches BAR0, enables MSI-X, runs the guest, disconnects.</summary>
    private static GuestRun RunGuest(string socket, DoorbellBindingMode? mode)
    {
        var table = DoorbellDevice.Table;
        var writes = DoorbellSequence.Create(table, seed: 14, writesPerRow: 6);
        using var guest = TestGuest.Create();
        using var client = VfioUserClient.Connect(socket);
        client.MapGuestMemory(guest.Vm);
        var bus = new MmioBus();
        var bar0 = client.AttachBar(0, Bar0Gpa, bus, guest.Vm, mode);
        var msix = client.EnableMsix(DoorbellDevice.Vectors);
        long setupWrites = client.RegionWrites;

        var a = new Assembler(64);
        DoorbellSequence.EmitWrites(a, table, Bar0Gpa, guestShadowGpa: null, writes);
        a.mov(eax, __dword_ptr[rbx + (int)ReadOffset]);
        a.mov(rcx, GuestLayout.Data);
        a.mov(__dword_ptr[rcx], eax);
        a.mov(eax, RaisedVector);
        a.mov(__dword_ptr[rbx + (int)DoorbellDevice.RaiseVectorOffset], eax);
        TestGuest.EmitFinish(a);
        guest.Load(a);
        var result = guest.RunToFinish(bus);

        Span<byte> word = stackalloc byte[4];
        Assert.True(guest.Memory.TryRead(GuestLayout.Data, word));
        // The raise's REGION_WRITE was answered after the device raised: the vector is pending now.
        ulong raised = msix.TakeSignals(RaisedVector);
        Assert.Equal(0, client.FailedAccesses);
        return new GuestRun(mode, writes, result, client.RegionWrites - setupWrites, client.RegionReads, setupWrites, raised,
            bar0.Doorbells?.AssignedIoEventFds ?? 0, BinaryPrimitives.ReadUInt32LittleEndian(word));
    }

    /// <summary>What the device saw against what KVM's rule and the mode say it must.</summary>
    private static void Check(GuestRun run, ulong[] signals, ulong[] values, (ulong Offset, int Size, ulong Value)[] dispatched)
    {
        var table = DoorbellDevice.Table;
        Assert.Equal(DoorbellSequence.ExpectedSignals(table, run.Writes), signals);
        var lastValues = DoorbellSequence.ExpectedLastValues(table, run.Writes);
        Assert.Equal(lastValues, values);
        var expectedDispatch = DoorbellSequence.ExpectedDispatched(table, run.Writes)
            .Select(w => (table[w.Row].Offset, table[w.Row].Width, w.Value))
            .Append((DoorbellDevice.RaiseVectorOffset, 4, (ulong)RaisedVector))
            .ToArray();
        Assert.Equal(expectedDispatch, dispatched);
        Assert.Equal(ExpectedRead, run.GuestRead);
        Assert.Equal(1UL, run.Raised);

        // Which writes KVM serves without an exit: notify doorbells hitting their datamatch once an
        // ioeventfd is registered, and with post-write the value doorbells too.
        bool ServedByKvm(DoorbellWrite w)
        {
            ref readonly var e = ref table[w.Row];
            bool hit = !e.HasDataMatch || e.DataMatch == w.Value;
            return hit && run.Mode switch
            {
                DoorbellBindingMode.GuestShadow => e.Kind == DoorbellKind.Notify,
                DoorbellBindingMode.KernelPostWrite => true,
                _ => false,
            };
        }
        long exits = run.Writes.Count(w => !ServedByKvm(w)) + 1;
        Assert.Equal(exits, run.Result.MmioWrites);
        Assert.Equal(1, run.Result.MmioReads);
        Assert.Equal(0, run.Result.UnmappedAccesses);
        // Messages: every exit in region-write mode; otherwise only what the trap path left to the device.
        long messages = run.Mode == null ? exits : expectedDispatch.Length;
        Assert.Equal(messages, run.RegionWrites);
        int expectedIoEventFds = run.Mode switch
        {
            DoorbellBindingMode.GuestShadow => table.Entries.ToArray().Count(e => e.Kind == DoorbellKind.Notify),
            DoorbellBindingMode.KernelPostWrite => table.Count,
            _ => 0,
        };
        Assert.Equal(expectedIoEventFds, run.AssignedIoEventFds);
    }

    private static void WaitForEnd(Task serving) =>
        Assert.True(serving.Wait(TimeSpan.FromMinutes(1)), "the server did not see the client go");

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("shadowio-vfio-user-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
