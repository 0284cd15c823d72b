namespace ShadowIo.Generator.Model;

// The generator cannot reference the runtime assembly, so these mirror ShadowIo's enums
// member for member; the numeric values are what the attributes carry.

/// <summary>Mirror of <c>ShadowIo.RegisterAccess</c>.</summary>
public enum RegisterAccessMode
{
    ReadWrite,
    ReadOnly,
    WriteOnly,
    WriteOneToClear,
}

/// <summary>Mirror of <c>ShadowIo.FieldAccess</c>.</summary>
public enum FieldAccessMode
{
    ReadWrite,
    ReadOnly,
    WriteOnly,
    Set,
    Toggle,
    WriteOneToClear,
    WriteZeroToClear,
    ReadToClear,
}

/// <summary>What kind of doorbell a <see cref="DoorbellModel"/> declares.</summary>
public enum DoorbellModelKind
{
    Value,
    Notify,
    ValueArray,
}
