namespace ShadowIo.Hosting;

/// <summary>
/// What a device gives <see cref="DeviceRunner"/>, the one device thread every host uses: handle
/// one fired doorbell, look at all of them, and take part in the polling hand-over. The device
/// reads doorbell values itself, from its binding's <c>Shadow</c> with the block's generated
/// <c>DoorbellReader</c>; the runner only says when to look.
/// </summary>
/// <remarks>
/// The runner calls these from its own thread while vCPU or server threads call the device's
/// MMIO dispatch: the device serializes them against each other (NVMe's controller takes one
/// lock per entry point). None may throw for guest input; a device that catches one of its own
/// bugs counts it in <see cref="InternalErrors"/>, which the runner's health check reports.
/// </remarks>
public interface IDoorbellDevice
{
    /// <summary>Row <paramref name="row"/> of the device's doorbell table fired: read its value and act on it.</summary>
    void ProcessDoorbell(int row);

    /// <summary>Looks at every doorbell's current value and does the work found; returns how much (0: idle).</summary>
    int Poll();

    /// <summary>
    /// Set while the runner calls <see cref="Poll"/> continuously: the device may then tell the
    /// guest not to ring (NVMe's EventIdx one behind the tail). Cleared before the runner sleeps on
    /// the doorbells: the device must then make the guest's next work ring (EventIdx = tail), and
    /// the runner polls once more before it sleeps, for work published in between.
    /// </summary>
    bool IsPolling { get; set; }

    /// <summary>Bugs the device caught at an entry point (must stay 0).</summary>
    long InternalErrors { get; }

    /// <summary>The last of those, for the report.</summary>
    Exception? LastInternalError { get; }
}
