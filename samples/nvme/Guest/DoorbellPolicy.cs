namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>How the guest driver announces a new queue tail or head to the controller.</summary>
internal enum DoorbellPolicy
{
    /// <summary>Write the MMIO doorbell every time (no Doorbell Buffer Config, and always the admin queue).</summary>
    Mmio,

    /// <summary>Store the value into the shadow doorbell page, then always write the MMIO doorbell.</summary>
    ShadowAlwaysRing,

    /// <summary>
    /// Store into the shadow page, full barrier, read EventIdx, and write the MMIO doorbell only
    /// when the new value passed the controller's EventIdx: Linux nvme-pci's
    /// <c>nvme_dbbuf_update_and_check_event</c> rule.
    /// </summary>
    ShadowEventIdx,
}
