namespace ShadowIo.Benchmarks.Doorbells;

/// <summary>How the benchmark guest's doorbell write reaches the emulator (the raw-C yardstick's three modes).</summary>
public enum DoorbellWriteMode
{
    /// <summary>No ioeventfd: every write exits; the VMM stores the value into the shadow page and signals the eventfd.</summary>
    Trap,
    /// <summary>A wildcard ioeventfd: KVM signals the eventfd without an exit (guest-shadow binding, attached).</summary>
    IoEventFd,
    /// <summary>The guest only stores into RAM (a shadow doorbell buffer): no exit, no signal.</summary>
    GuestStore,
}

/// <summary>Names of <see cref="DoorbellWriteMode"/> values as the benchmark prints them.</summary>
public static class DoorbellWriteModes
{
    /// <summary>The name the benchmark's output uses: "trap", "ioeventfd", "guest-store".</summary>
    public static string Name(this DoorbellWriteMode mode) => mode switch
    {
        DoorbellWriteMode.Trap => "trap",
        DoorbellWriteMode.IoEventFd => "ioeventfd",
        DoorbellWriteMode.GuestStore => "guest-store",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };
}
