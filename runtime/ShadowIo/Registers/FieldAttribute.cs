namespace ShadowIo;

/// <summary>
/// Declares a bit field of a register. Apply several to one register property; the generator
/// checks they do not overlap and fit the register, and applies each field's access mode.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true, Inherited = false)]
public sealed class FieldAttribute(string name, int bit, int width) : Attribute
{
    public string Name { get; } = name;

    /// <summary>Position of the least significant bit.</summary>
    public int Bit { get; } = bit;

    /// <summary>Number of bits.</summary>
    public int Width { get; } = width;

    public FieldAccess Access { get; set; } = FieldAccess.ReadWrite;

    public ulong Reset { get; set; }

    /// <summary>Optional enum type the field's value is exposed as.</summary>
    public Type? EnumType { get; set; }
}
