namespace ShadowIo.Generator;

/// <summary>Metadata names of the ShadowIo attributes the generator and analyzer read.</summary>
internal static class KnownAttributes
{
    public const string RegisterBlock = "ShadowIo.RegisterBlockAttribute";
    public const string Register = "ShadowIo.RegisterAttribute";
    public const string Field = "ShadowIo.FieldAttribute";
    public const string Doorbell = "ShadowIo.DoorbellAttribute";
    public const string NotifyDoorbell = "ShadowIo.NotifyDoorbellAttribute";
    public const string DoorbellArray = "ShadowIo.DoorbellArrayAttribute";
    public const string RegisterSet = "ShadowIo.RegisterSetAttribute";
}
