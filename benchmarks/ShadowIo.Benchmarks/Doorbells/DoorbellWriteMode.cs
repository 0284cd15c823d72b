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
    /// <summary>
    /// vfio-user only: every write exits; our VMM stores the value into the device process's shadow
    /// (its IOEVENTFD_SHADOW memfd, mapped here) and signals its eventfd, with no message.
    /// </summary>
    ShadowTrap,
}

/// <summary>Where the device the benchmark guest rings lives.</summary>
public enum DoorbellTransport
{
    /// <summary>In the VMM's own process (a <c>DoorbellBinding</c>).</summary>
    InProcess,
    /// <summary>
    /// In another process, served over vfio-user and attached by <c>VfioUserClient</c>: trap is a
    /// REGION_WRITE and its reply, ioeventfd the server's own eventfd registered with KVM here.
    /// </summary>
    VfioUser,
}

/// <summary>Names of <see cref="DoorbellWriteMode"/> values as the benchmark prints them.</summary>
public static class DoorbellWriteModes
{
    /// <summary>The name the benchmark's output uses: "trap", "ioeventfd", "guest-store", "shadow-trap".</summary>
    public static string Name(this DoorbellWriteMode mode) => mode switch
    {
        DoorbellWriteMode.Trap => "trap",
        DoorbellWriteMode.IoEventFd => "ioeventfd",
        DoorbellWriteMode.GuestStore => "guest-store",
        DoorbellWriteMode.ShadowTrap => "shadow-trap",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary>The transport's name in the output: "in-process", "vfio-user".</summary>
    public static string Name(this DoorbellTransport transport) => transport switch
    {
        DoorbellTransport.InProcess => "in-process",
        DoorbellTransport.VfioUser => "vfio-user",
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, null),
    };
}
