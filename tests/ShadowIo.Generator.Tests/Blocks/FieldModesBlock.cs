namespace ShadowIo.Generator.Tests.Blocks;

public enum Color : byte
{
    Red = 0,
    Green = 1,
    Blue = 2,
    White = 3,
}

/// <summary>Every field access mode, one field each, in one 4-byte register; plus a write-only one.</summary>
[RegisterBlock("Field modes", 0x100)]
public sealed partial class FieldModesBlock
{
    [Register(0x00, 4, Reset = 0xFFFF_0000)]
    [Field("RW", 0, 4, Reset = 0x5)]
    [Field("RO", 4, 4, Access = FieldAccess.ReadOnly, Reset = 0xA)]
    [Field("WO", 8, 4, Access = FieldAccess.WriteOnly)]
    [Field("SET", 12, 4, Access = FieldAccess.Set)]
    [Field("TOGGLE", 16, 4, Access = FieldAccess.Toggle)]
    [Field("W1C", 20, 4, Access = FieldAccess.WriteOneToClear)]
    [Field("W0C", 24, 4, Access = FieldAccess.WriteZeroToClear)]
    [Field("RC", 28, 2, Access = FieldAccess.ReadToClear)]
    [Field("COLOR", 30, 2, EnumType = typeof(Color))]
    public partial uint Control { get; set; }

    [Register(0x04, 2, Access = RegisterAccess.WriteOnly, Reset = 0x1234)]
    public partial ushort Command { get; set; }

    [Register(0x06, 1, Access = RegisterAccess.WriteOneToClear, Reset = 0xFF)]
    public partial byte Status { get; set; }

    [Register(0x07, 1)]
    [Field("LOW", 0, 4)]
    [Field("HIGH", 4, 4, Access = FieldAccess.ReadOnly)]
    public partial byte Small { get; set; }

    [Register(0x08, 8, Access = RegisterAccess.WriteOnly)]
    [Field("SECRET", 0, 32, Access = FieldAccess.WriteOnly)]
    [Field("FLAGS", 32, 8, Access = FieldAccess.Set)]
    public partial ulong Wide { get; set; }

    public List<(ulong Offset, int Size)> UndefinedReads { get; } = [];

    public List<(ulong Offset, int Size, ulong Value)> UndefinedWrites { get; } = [];

    public List<(uint Previous, uint Value)> ControlWrites { get; } = [];

    partial void OnUndefinedRead(ulong offset, int size) => UndefinedReads.Add((offset, size));

    partial void OnUndefinedWrite(ulong offset, int size, ulong value) => UndefinedWrites.Add((offset, size, value));

    partial void OnControlWritten(uint previous, uint value) => ControlWrites.Add((previous, value));
}
