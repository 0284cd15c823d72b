using ShadowIo.Binding;
using ShadowIo.Hosting;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>The VMM's view of the controller, wherever it runs (<see cref="WorkloadTransport"/>).</summary>
internal interface IControllerHost : IDisposable
{
    /// <summary>The bus the vCPU loop routes BAR0's exits to.</summary>
    MmioBus Bus { get; }

    /// <summary>The VMM's doorbell binding has the guest's Doorbell Buffer Config page: value doorbells no longer exit.</summary>
    bool IsGuestShadowAttached { get; }

    /// <summary>Why enabling failed (CSTS.CFS), when the host can know.</summary>
    string? LastEnableFailure { get; }

    /// <summary>
    /// Doorbell Buffer Config naming <paramref name="guestShadow"/> completed successfully; a host
    /// whose controller could not tell the binding itself attaches the page now.
    /// </summary>
    void DoorbellBufferConfigured(ShadowRegion guestShadow);

    /// <summary>Throws <see cref="WorkloadException"/> when the controller (its thread, its process) failed.</summary>
    void CheckHealth();
}
