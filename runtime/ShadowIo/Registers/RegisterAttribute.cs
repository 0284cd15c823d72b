namespace ShadowIo;

/// <summary>
/// Declares an ordinary register on a <c>partial</c> property of a register block.
/// The property type must match <paramref name="width"/>: byte, ushort, uint or ulong.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class RegisterAttribute(ulong offset, int width) : Attribute
{
    /// <summary>Byte offset of the register within the block.</summary>
    public ulong Offset { get; } = offset;

    /// <summary>Width in bytes: 1, 2, 4 or 8.</summary>
    public int Width { get; } = width;

    /// <summary>Guest access rule applied by the generated MMIO dispatch.</summary>
    public RegisterAccess Access { get; set; } = RegisterAccess.ReadWrite;

    /// <summary>Value after reset. With fields declared, field resets are composed into it.</summary>
    public ulong Reset { get; set; }
}
