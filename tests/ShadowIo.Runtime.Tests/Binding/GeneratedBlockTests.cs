using Iced.Intel;
using ShadowIo.Binding;
using ShadowIo.Runtime.Tests.Blocks;
using ShadowIo.Runtime.Tests.Support;
using ShadowIo.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace ShadowIo.Runtime.Tests.Binding;

/// <summary>The binding consumes the generator's table and the guest's register accesses reach the generated dispatch.</summary>
public sealed class GeneratedBlockTests
{
    [Fact]
    public void The_generated_table_has_one_row_per_doorbell_element_with_the_dbbuf_shadow_layout()
    {
        var table = TestDoorbellBlock.DoorbellTable;

        Assert.Equal(11, table.Count);
        Assert.Equal(0, TestDoorbellBlock.DoorbellIndex.SqTail);
        Assert.Equal(4, TestDoorbellBlock.DoorbellIndex.CqHead);
        Assert.Equal(8, TestDoorbellBlock.DoorbellIndex.Wide);
        Assert.Equal(9, TestDoorbellBlock.DoorbellIndex.Kick);
        Assert.Equal(10, TestDoorbellBlock.DoorbellIndex.Poke);
        for (int y = 0; y < 4; y++)
        {
            Assert.Equal(8 * y, table[TestDoorbellBlock.DoorbellIndex.SqTail + y].ShadowOffset);
            Assert.Equal(8 * y + 4, table[TestDoorbellBlock.DoorbellIndex.CqHead + y].ShadowOffset);
        }
        Assert.Equal(0x40, table[TestDoorbellBlock.DoorbellIndex.Wide].ShadowOffset);
        Assert.True(table[TestDoorbellBlock.DoorbellIndex.Kick].HasDataMatch);
        Assert.False(table[TestDoorbellBlock.DoorbellIndex.Poke].HasDataMatch);
        Assert.Equal(-1, table[TestDoorbellBlock.DoorbellIndex.Poke].ShadowOffset);
    }

    [Fact]
    public void A_guest_sees_the_access_rules_of_the_generated_dispatch()
    {
        RequireKvm.Present();
        using var guest = TestGuest.Create();
        const ulong block = DoorbellScenario.BlockGpa, results = GuestLayout.Data;
        var a = new Assembler(64);
        a.mov(rbx, block);
        a.mov(rcx, results);
        a.mov(__dword_ptr[rbx + (int)TestDoorbellBlock.StatusOffset], 0xFFFF); // read-only: ignored
        a.mov(__dword_ptr[rbx + (int)TestDoorbellBlock.CapOffset], 0);         // read-only: ignored
        a.mov(__dword_ptr[rbx + (int)TestDoorbellBlock.ControlOffset], 1);
        a.mov(eax, __dword_ptr[rbx + (int)TestDoorbellBlock.StatusOffset]);
        a.mov(__dword_ptr[rcx], eax);
        a.mov(eax, __dword_ptr[rbx + (int)TestDoorbellBlock.CapOffset]);       // low half of an 8-byte register
        a.mov(__dword_ptr[rcx + 4], eax);
        a.mov(eax, __dword_ptr[rbx + (int)TestDoorbellBlock.CapOffset + 4]);   // high half
        a.mov(__dword_ptr[rcx + 8], eax);
        a.mov(eax, __dword_ptr[rbx + 0x1000]);                                 // a doorbell reads 0
        a.mov(__dword_ptr[rcx + 12], eax);
        TestGuest.EmitFinish(a);
        guest.Load(a);
        var device = new TestDoorbellBlock();
        using var binding = DoorbellBinding.Create(guest.Vm, TestDoorbellBlock.DoorbellTable, block, DoorbellBindingMode.Trap);
        var bus = new MmioBus();
        bus.Add(block, device, binding);

        guest.RunToFinish(bus);

        Assert.True(guest.Memory.TryRead(results, out uint status));
        Assert.True(guest.Memory.TryRead(results + 4, out uint capLow));
        Assert.True(guest.Memory.TryRead(results + 8, out uint capHigh));
        Assert.True(guest.Memory.TryRead(results + 12, out uint doorbell));
        Assert.Equal(1u, status);
        Assert.Equal(TestDoorbellBlock.CapReset, ((ulong)capHigh << 32) | capLow);
        Assert.Equal(0u, doorbell);
        Assert.Equal(1u, device.Control);
    }
}
