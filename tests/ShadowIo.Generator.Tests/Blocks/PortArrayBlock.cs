namespace ShadowIo.Generator.Tests.Blocks;

/// <summary>
/// Register arrays: a group of registers repeated (xHCI 1.2 §5.4.8-§5.4.11's port register set,
/// PORTSC/PORTPMSC/PORTLI/PORTHLPMC at 0x400 + 0x10 × n, with PORTSC's field modes) and a single
/// register repeated with a stride larger than itself, beside an ordinary register.
/// </summary>
[RegisterBlock("port arrays", 0x1000)]
public partial class PortArrayBlock
{
    [Register(0x0, 4, Reset = 0x0000_0020)]
    public partial uint Config { get; set; }

    [RegisterSet("Ports", 0x400, 4, 0x10)]
    public partial class PortRegisters
    {
        [Register(0x0, 4, Reset = 0x0000_02A0)]
        [Field("CCS", 0, 1, Access = FieldAccess.ReadOnly)]
        [Field("PED", 1, 1, Access = FieldAccess.WriteOneToClear)]
        [Field("PR", 4, 1, Access = FieldAccess.Set)]
        [Field("PLS", 5, 4)]
        [Field("PP", 9, 1)]
        [Field("CSC", 17, 1, Access = FieldAccess.WriteOneToClear)]
        public partial uint PortSc { get; set; }

        [Register(0x4, 4)]
        public partial uint PortPmsc { get; set; }

        [Register(0x8, 4, Access = RegisterAccess.ReadOnly)]
        public partial uint PortLi { get; set; }

        [Register(0xC, 4)]
        public partial uint PortHlpmc { get; set; }
    }

    [RegisterSet("Scratch", 0x800, 3, 0x8)]
    public partial class ScratchRegister
    {
        [Register(0x0, 2, Reset = 0x1234)]
        public partial ushort Value { get; set; }
    }
}

/// <summary>The hooks the register-set tests observe.</summary>
public partial class PortArrayBlock
{
    public (int Index, uint Previous, uint Value) LastPortPmscWrite { get; private set; }
    public (int Index, uint Previous, uint Value) LastPortLiWrite { get; private set; }
    public (int Index, ushort Previous, ushort Value) LastScratchWrite { get; private set; }
    public (ulong Offset, int Size) LastUndefinedRead { get; private set; }
    public (ulong Offset, int Size) LastUndefinedWrite { get; private set; }

    partial void OnPortPmscWritten(int index, uint previous, uint value) => LastPortPmscWrite = (index, previous, value);
    partial void OnPortLiWritten(int index, uint previous, uint value) => LastPortLiWrite = (index, previous, value);
    partial void OnValueWritten(int index, ushort previous, ushort value) => LastScratchWrite = (index, previous, value);
    partial void OnUndefinedRead(ulong offset, int size) => LastUndefinedRead = (offset, size);
    partial void OnUndefinedWrite(ulong offset, int size, ulong value) => LastUndefinedWrite = (offset, size);
}
