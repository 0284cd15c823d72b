namespace ShadowIo;

/// <summary>
/// Declares a bit field of a register. Apply several to one register property; the generator
/// checks they do not overlap and fit the register, and applies each field's access mode.
/// </summary>
/// <param name="name">The field's name; the generated typed accessor is named after it (register name + field name).</param>
/// <param name="bit">Position of the least significant bit, from 0.</param>
/// <param name="width">Number of bits, at least 1; <paramref name="bit"/> + <paramref name="width"/> must fit the register.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true, Inherited = false)]
public sealed class FieldAttribute(string name, int bit, int width) : Attribute
{
    /// <summary>The field's name as declared (e.g. <c>"EN"</c>).</summary>
    public string Name { get; } = name;

    /// <summary>Position of the least significant bit.</summary>
    public int Bit { get; } = bit;

    /// <summary>Number of bits.</summary>
    public int Width { get; } = width;

    /// <summary>What a guest access does to the field; <see cref="FieldAccess.ReadWrite"/> by default.</summary>
    public FieldAccess Access { get; set; } = FieldAccess.ReadWrite;

    /// <summary>The field's value after reset, in field units (not shifted); must fit <see cref="Width"/> bits.</summary>
    public ulong Reset { get; set; }

    /// <summary>Optional enum type the field's value is exposed as.</summary>
    public Type? EnumType { get; set; }
}
