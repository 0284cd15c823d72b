namespace ShadowIo.Devices.Nvme;

/// <summary>
/// The guest's Doorbell Buffer Config pages after validation: both page aligned, distinct and
/// wholly guest RAM. A host in guest-shadow mode hands <see cref="Shadow"/> to
/// <c>DoorbellBinding.AttachGuestShadow</c>.
/// </summary>
public readonly record struct DoorbellBufferPages(ulong ShadowAddress, ulong EventIdxAddress, ShadowRegion Shadow, ShadowRegion EventIdx);
