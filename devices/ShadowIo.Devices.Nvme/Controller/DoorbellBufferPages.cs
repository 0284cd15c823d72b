namespace ShadowIo.Devices.Nvme;

/// <summary>
/// The guest's Doorbell Buffer Config pages after validation: both page aligned, distinct and
/// wholly guest RAM. A host in guest-shadow mode hands <see cref="Shadow"/> to
/// <c>DoorbellBinding.AttachGuestShadow</c>.
/// </summary>
/// <param name="ShadowAddress">Guest physical address of the shadow doorbell page (the command's PRP1).</param>
/// <param name="EventIdxAddress">Guest physical address of the EventIdx page (PRP2).</param>
/// <param name="Shadow">The shadow page as host memory, valid while guest RAM stays mapped there.</param>
/// <param name="EventIdx">The EventIdx page as host memory, valid while guest RAM stays mapped there.</param>
public readonly record struct DoorbellBufferPages(ulong ShadowAddress, ulong EventIdxAddress, ShadowRegion Shadow, ShadowRegion EventIdx);
