// Compiled into the generator as well (generator/ShadowIo.Generator.csproj, SHADOWIO_GENERATOR), so
// the attributes' values and the generator's model are one enum, not a copy kept in step by hand.
#if SHADOWIO_GENERATOR
namespace ShadowIo.Generator.Model;
#else
namespace ShadowIo;
#endif

/// <summary>How a guest MMIO access affects one bit field.</summary>
public enum FieldAccess
{
    /// <summary>Reads return the field; writes replace it.</summary>
    ReadWrite,
    /// <summary>Reads return the field; guest writes leave it alone (the device sets it).</summary>
    ReadOnly,
    /// <summary>Writes replace the field; reads return zero in its bits.</summary>
    WriteOnly,
    /// <summary>Writing 1 sets a bit; writing 0 has no effect.</summary>
    Set,
    /// <summary>Writing 1 inverts a bit; writing 0 has no effect.</summary>
    Toggle,
    /// <summary>Reads return the field; each bit written as 1 is cleared, 0 leaves it (RW1C).</summary>
    WriteOneToClear,
    /// <summary>Reads return the field; each bit written as 0 is cleared, 1 leaves it (RW0C).</summary>
    WriteZeroToClear,
    /// <summary>A read returns the value, then clears the field.</summary>
    ReadToClear,
}
