// Compiled into the generator as well (generator/ShadowIo.Generator.csproj, SHADOWIO_GENERATOR), so
// the attributes' values and the generator's model are one enum, not a copy kept in step by hand.
#if SHADOWIO_GENERATOR
namespace ShadowIo.Generator.Model;
#else
namespace ShadowIo;
#endif

/// <summary>How the guest may access an ordinary register through MMIO.</summary>
public enum RegisterAccess
{
    /// <summary>Reads return the value; writes replace it.</summary>
    ReadWrite,
    /// <summary>Reads return the value; guest writes are ignored (the device still sets it).</summary>
    ReadOnly,
    /// <summary>Writes replace the value; reads return zero.</summary>
    WriteOnly,
    /// <summary>Reads return the value; each bit written as 1 is cleared.</summary>
    WriteOneToClear,
}
