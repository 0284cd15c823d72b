namespace ShadowIo.Generator.Tests.Blocks;

/// <summary>The smallest useful block: two registers, no doorbells, no fields.</summary>
[RegisterBlock("plain", 0x10)]
public partial class PlainBlock
{
    [Register(0x0, 4)]
    public partial uint Scratch { get; set; }

    [Register(0x8, 8, Reset = 0xDEAD_BEEF_0000_0001)]
    public partial ulong Counter { get; set; }
}
