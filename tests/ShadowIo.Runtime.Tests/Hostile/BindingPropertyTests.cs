using CsCheck;
using ShadowIo.Binding;
using ShadowIo.Kvm;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;

namespace ShadowIo.Runtime.Tests.Hostile;

/// <summary>Issue 5: any guest-controlled write the VMM hands the trap path is handled or declined, never thrown.</summary>
public sealed class BindingPropertyTests
{
    private const ulong BlockGpa = 0xFE00_0000;

    /// <summary>Addresses around and inside the block (doorbell starts over-represented), any size, any value.</summary>
    private static readonly Gen<(ulong Gpa, int Size, ulong Value)> HostileWrite = Gen.Select(
        Gen.Frequency(
            (3, Gen.Int[0, TestDoorbellBlock.DoorbellTable.Count - 1].Select(row => BlockGpa + TestDoorbellBlock.DoorbellTable[row].Offset)),
            (3, Gen.ULong[BlockGpa - 16, BlockGpa + TestDoorbellBlock.BlockSize + 16]),
            (1, Gen.ULong)),
        Gen.Frequency((6, Gen.OneOf<int>(1, 2, 4, 8)), (1, Gen.Int)),
        Gen.Frequency((2, Gen.OneOf<ulong>(TestDoorbellBlock.KickDataMatch, 0UL, ulong.MaxValue)), (5, Gen.ULong)));

    [Fact]
    public void The_trap_path_claims_exactly_the_writes_kvm_would_match_and_stores_them_at_the_doorbell_width()
    {
        RequireKvm.Present();
        using var kvm = KvmSystem.Open();
        using var vm = kvm.CreateVm();
        using var binding = DoorbellBinding.Create(vm, TestDoorbellBlock.DoorbellTable, BlockGpa, DoorbellBindingMode.Trap);
        var table = TestDoorbellBlock.DoorbellTable;
        long tried = 0;

        HostileWrite.Sample((gpa, size, value) =>
        {
            tried++;
            long trappedBefore = binding.TrappedWrites;
            bool claimed = binding.TryHandleMmioWrite(gpa, size, value);

            int row = -1;
            bool isDoorbellStart = gpa >= BlockGpa && gpa - BlockGpa < table.BlockSize && table.TryFind(gpa - BlockGpa, out row);
            bool kvmWouldMatch = isDoorbellStart && size == table[row].Width &&
                (!table[row].HasDataMatch || (value & DoorbellSequence.Mask(size)) == table[row].DataMatch);
            Assert.Equal(kvmWouldMatch, claimed);
            Assert.Equal(trappedBefore + (claimed ? 1 : 0), binding.TrappedWrites);
            if (claimed && table[row].Kind == DoorbellKind.Value)
                Assert.Equal(value & DoorbellSequence.Mask(size), binding.Shadow.Read(table[row].ShadowOffset, size));
        }, iter: 20_000, threads: 1);

        Assert.Equal(20_000, tried);
    }

    [Fact]
    public void A_bus_routes_any_access_to_the_one_device_that_wholly_contains_it_or_declines()
    {
        var bus = new MmioBus();
        var devices = new (ulong Base, ulong Size, RecordingDevice Device)[]
        {
            (0x1000, 0x1000, new RecordingDevice(1)),
            (0x2000, 0x10, new RecordingDevice(2)),
            (0xFFFF_FFFF_FFFF_E000, 0x1000, new RecordingDevice(3)),
        };
        foreach (var (b, s, d) in devices) bus.Add(b, s, d);
        var access = Gen.Select(
            Gen.Frequency((4, Gen.ULong[0x0F00, 0x2100]), (1, Gen.ULong), (1, Gen.ULong[0xFFFF_FFFF_FFFF_EF00, ulong.MaxValue])),
            Gen.Frequency((6, Gen.OneOf<int>(1, 2, 4, 8)), (1, Gen.Int)));

        access.Sample((gpa, size) =>
        {
            var owner = devices.Where(d => gpa >= d.Base && gpa - d.Base < d.Size && size > 0 && (ulong)size <= d.Size - (gpa - d.Base)).ToArray();
            bool read = bus.TryRead(gpa, size, out ulong value);
            Assert.Equal(owner.Length == 1, read);
            if (read) Assert.Equal(owner[0].Device.ReadMmio(0, 0), value);
        }, iter: 20_000);
    }
}
