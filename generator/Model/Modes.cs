namespace ShadowIo.Generator.Model;

/// <summary>What kind of doorbell a <see cref="DoorbellModel"/> declares.</summary>
public enum DoorbellModelKind
{
    Value,
    Notify,
    ValueArray,
}
