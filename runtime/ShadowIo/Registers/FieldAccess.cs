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
    ReadWrite,
    ReadOnly,
    WriteOnly,
    /// <summary>Writing 1 sets a bit; writing 0 has no effect.</summary>
    Set,
    /// <summary>Writing 1 inverts a bit; writing 0 has no effect.</summary>
    Toggle,
    WriteOneToClear,
    WriteZeroToClear,
    /// <summary>A read returns the value, then clears the field.</summary>
    ReadToClear,
}
