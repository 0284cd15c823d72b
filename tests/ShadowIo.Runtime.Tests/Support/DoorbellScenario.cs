using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Support;

/// <summary>What the emulator side saw after a guest ran a doorbell sequence.</summary>
public sealed record DoorbellObservation(
    ulong[] Signals,
    ulong[] LastValues,
    uint Control,
    uint StatusSeenByGuest,
    (int Row, ulong Value)[] Dispatched,
    long ExitsToUserspace,
    long TrappedWrites)
{
    /// <summary>The mode-independent part: what the device and its consumer observed.</summary>
    public string Observed =>
        $"signals [{string.Join(",", Signals)}] values [{string.Join(",", LastValues.Select(v => v.ToString("x")))}] " +
        $"control {Control:x} status {StatusSeenByGuest:x} dispatched [{string.Join(",", Dispatched)}]";
}

/// <summary>
/// Runs a CPL3 guest that rings the <see cref="TestDoorbellBlock"/>'s doorbells (storing each
/// value into its guest shadow page first, as an NVMe driver with Doorbell Buffer Config does),
/// then writes Control and reads Status through ordinary MMIO; a consumer thread waits on
/// <see cref="DoorbellEvents"/> the whole time.
/// </summary>
public static class DoorbellScenario
{
    /// <summary>Above the guest's RAM, inside its 4 GiB identity map.</summary>
    public const ulong BlockGpa = 0xFE00_0000;
    public const ulong GuestShadowGpa = GuestLayout.Data;
    public const ulong StatusCopyGpa = GuestLayout.Data + 0x2000;
    public const uint ControlValue = 0x0046_0001;

    public static DoorbellTable Table => TestDoorbellBlock.DoorbellTable;

    /// <summary>The writes, each value stored into the guest shadow page first (whatever the mode).</summary>
    public static void EmitWrites(Assembler a, IEnumerable<DoorbellWrite> writes) =>
        DoorbellSequence.EmitWrites(a, Table, BlockGpa, GuestShadowGpa, writes);

    public static void EmitRegisterAccess(Assembler a)
    {
        a.mov(rbx, BlockGpa);
        a.mov(__dword_ptr[rbx + (int)TestDoorbellBlock.ControlOffset], ControlValue);
        a.mov(eax, __dword_ptr[rbx + (int)TestDoorbellBlock.StatusOffset]);
        a.mov(rcx, StatusCopyGpa);
        a.mov(__dword_ptr[rcx], eax);
    }

    /// <summary>Builds a guest, binds the block in <paramref name="mode"/>, runs the writes and observes.</summary>
    public static DoorbellObservation Run(DoorbellBindingMode mode, IReadOnlyList<DoorbellWrite> writes, bool attachGuestShadow)
    {
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        EmitWrites(a, writes);
        EmitRegisterAccess(a);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var binding = DoorbellBinding.Create(guest.Vm, Table, BlockGpa, mode);
        if (attachGuestShadow)
        {
            Assert.True(guest.Memory.TryGetShadowRegion(GuestShadowGpa, 4096, out var shadow));
            binding.AttachGuestShadow(shadow);
        }
        var device = new TestDoorbellBlock();
        var bus = new MmioBus();
        bus.Add(BlockGpa, device, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var counter = new DoorbellSignalCounter(events, source, Table.Count);

        var result = guest.RunToFinish(bus);
        var signals = counter.Stop();
        Assert.Equal(0, counter.OtherSourceEvents);

        var reader = new TestDoorbellBlock.DoorbellReader(binding.Shadow);
        var last = new ulong[Table.Count];
        for (int i = 0; i < 4; i++)
        {
            last[TestDoorbellBlock.DoorbellIndex.SqTail + i] = reader.SqTail(i);
            last[TestDoorbellBlock.DoorbellIndex.CqHead + i] = reader.CqHead(i);
        }
        last[TestDoorbellBlock.DoorbellIndex.Wide] = reader.Wide;
        Assert.True(guest.Memory.TryRead(StatusCopyGpa, out uint status));
        return new DoorbellObservation(signals, last, device.Control, status, [.. device.DispatchedDoorbells],
            result.ExitsToUserspace, binding.TrappedWrites);
    }
}
