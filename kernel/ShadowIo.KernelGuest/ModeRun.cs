using System.Diagnostics;
using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.KernelGuest;

/// <summary>What the emulator side saw after the nested guest ran a write sequence.</summary>
internal sealed record ModeObservation(
    ulong[] Signals,
    ulong[] LastValues,
    uint Control,
    uint StatusSeenByGuest,
    (int Row, ulong Value)[] Dispatched,
    long ExitsToUserspace,
    long TrappedWrites,
    TimeSpan Elapsed)
{
    /// <summary>The mode-independent part: what the device and its consumer observed.</summary>
    public string Observed =>
        $"signals [{string.Join(",", Signals)}] values [{string.Join(",", LastValues.Select(Report.Hex))}] " +
        $"control {Report.Hex(Control)} status {Report.Hex(StatusSeenByGuest)} " +
        $"dispatched [{string.Join(",", Dispatched.Select(d => $"{d.Row}:{Report.Hex(d.Value)}"))}]";
}

/// <summary>
/// Runs a CPL3 nested guest (ShadowIo.Testing.TestGuest) that writes doorbells of
/// <see cref="DoorbellTestBlock"/> bound in one <see cref="DoorbellBindingMode"/>, then writes
/// Control and reads Status through plain MMIO; reads the last values back with the generated
/// DoorbellReader over <see cref="DoorbellBinding.Shadow"/>.
/// </summary>
/// <remarks>
/// Only in guest-shadow mode does the guest store each value into its own shadow page (as an NVMe
/// driver with Doorbell Buffer Config does). In post-write mode the guest only writes the MMIO
/// doorbell, so the values the reader finds in the memfd shadow page can only have been stored
/// there by the patched KVM.
/// </remarks>
internal static class ModeRun
{
    /// <summary>Above the nested guest's RAM, inside its 4 GiB identity map.</summary>
    public const ulong BlockGpa = 0xFE00_0000;
    public const ulong GuestShadowGpa = GuestLayout.Data;
    public const ulong StatusCopyGpa = GuestLayout.Data + 0x2000;
    public const uint ControlValue = 0x0046_0001;

    private static DoorbellTable Table => DoorbellTestBlock.DoorbellTable;

    public static ModeObservation Run(DoorbellBindingMode mode, IReadOnlyList<DoorbellWrite> writes)
    {
        bool guestStores = mode == DoorbellBindingMode.GuestShadow;
        return Execute(mode, guestStores, Sequence(writes, guestStores));
    }

    /// <summary>
    /// <paramref name="count"/> writes of count, count-1, ..., 1 to SQ 1's tail doorbell in a
    /// tight loop: notifications per second in this mode (TCG runs the nested guest too, so the
    /// figure is functional, not a performance claim).
    /// </summary>
    public static ModeObservation RunLoop(DoorbellBindingMode mode, int count)
    {
        bool guestStores = mode == DoorbellBindingMode.GuestShadow;
        return Execute(mode, guestStores, Loop(count, guestStores));
    }

    /// <summary>The guest program of <see cref="Run"/>: the writes (and, with <paramref name="guestStores"/>, each value into the guest shadow first), then Control and Status.</summary>
    public static Action<Assembler> Sequence(IReadOnlyList<DoorbellWrite> writes, bool guestStores) => a =>
    {
        DoorbellSequence.EmitWrites(a, Table, BlockGpa, guestStores ? GuestShadowGpa : null, writes);
        EmitRegisterAccess(a);
    };

    /// <summary>The guest program of <see cref="RunLoop"/>.</summary>
    public static Action<Assembler> Loop(int count, bool guestStores) => a =>
    {
        var e = Table[DoorbellTestBlock.DoorbellIndex.SqTail + 1];
        a.mov(rbx, BlockGpa);
        a.mov(rsi, GuestShadowGpa);
        a.mov(ecx, count);
        var top = a.CreateLabel();
        a.Label(ref top);
        if (guestStores) a.mov(__dword_ptr[rsi + e.ShadowOffset], ecx);
        a.mov(__dword_ptr[rbx + (int)e.Offset], ecx);
        a.dec(ecx);
        a.jnz(top);
        EmitRegisterAccess(a);
    };

    /// <summary>Each row's last value, read with the generated DoorbellReader over a shadow (0 for notify rows).</summary>
    public static ulong[] LastValues(ShadowRegion shadow)
    {
        var reader = new DoorbellTestBlock.DoorbellReader(shadow);
        var last = new ulong[Table.Count];
        for (int i = 0; i < DoorbellTestBlock.QueueCount; i++)
        {
            last[DoorbellTestBlock.DoorbellIndex.SqTail + i] = reader.SqTail(i);
            last[DoorbellTestBlock.DoorbellIndex.CqHead + i] = reader.CqHead(i);
        }
        last[DoorbellTestBlock.DoorbellIndex.Wide] = reader.Wide;
        last[DoorbellTestBlock.DoorbellIndex.Half] = reader.Half;
        last[DoorbellTestBlock.DoorbellIndex.Tiny] = reader.Tiny;
        return last;
    }

    private static ModeObservation Execute(DoorbellBindingMode mode, bool attachGuestShadow, Action<Assembler> emit)
    {
        using var guest = TestGuest.Create();
        var a = new Assembler(64);
        emit(a);
        TestGuest.EmitFinish(a);
        guest.Load(a);

        using var binding = DoorbellBinding.Create(guest.Vm, Table, BlockGpa, mode);
        if (binding.Mode != mode)
            throw new InvalidOperationException($"asked for {mode}, the binding resolved to {binding.Mode}");
        if (attachGuestShadow)
        {
            if (!guest.Memory.TryGetShadowRegion(GuestShadowGpa, 4096, out var shadow))
                throw new InvalidOperationException("the guest shadow page is not in guest RAM");
            binding.AttachGuestShadow(shadow);
        }
        var device = new DoorbellTestBlock();
        device.ResetRegisters();
        var bus = new MmioBus();
        bus.Add(BlockGpa, DoorbellTestBlock.BlockSize, device, binding);
        using var events = new DoorbellEvents();
        int source = events.Add(binding);
        using var counter = new DoorbellSignalCounter(events, source, Table.Count);

        var stopwatch = Stopwatch.StartNew();
        var result = guest.RunToFinish(bus);
        stopwatch.Stop();
        var signals = counter.Stop();

        var last = LastValues(binding.Shadow);
        return new ModeObservation(signals, last, device.Control, StatusSeenByGuest(guest), [.. device.Dispatched],
            result.ExitsToUserspace, binding.TrappedWrites, stopwatch.Elapsed);
    }

    /// <summary>The Status value the guest read and stored at <see cref="StatusCopyGpa"/>.</summary>
    public static uint StatusSeenByGuest(TestGuest guest) =>
        guest.Memory.TryRead(StatusCopyGpa, out uint status) ? status : throw new InvalidOperationException("status copy outside guest RAM");

    private static void EmitRegisterAccess(Assembler a)
    {
        a.mov(rbx, BlockGpa);
        a.mov(__dword_ptr[rbx + (int)DoorbellTestBlock.ControlOffset], ControlValue);
        a.mov(eax, __dword_ptr[rbx + (int)DoorbellTestBlock.StatusOffset]);
        a.mov(rcx, StatusCopyGpa);
        a.mov(__dword_ptr[rcx], eax);
    }
}
