namespace ShadowIo.Qemu.Protocol;

/// <summary>
/// Message commands of QEMU 7.2's multi-process protocol (<c>MPQemuCmd</c> in
/// include/hw/remote/mpqemu-link.h). The numbering is the wire value.
/// </summary>
internal enum MpqemuCommand
{
    /// <summary>Guest RAM layout: one fd per region; no reply.</summary>
    SyncSysmem = 0,
    /// <summary>The reply to every synchronous request: a u64 value.</summary>
    Ret = 1,
    PciConfigWrite = 2,
    PciConfigRead = 3,
    BarWrite = 4,
    BarRead = 5,
    /// <summary>The INTx eventfds (intr, resample); no payload, no reply.</summary>
    SetIrqfd = 6,
    /// <summary>System reset reached the proxy; answered with RET.</summary>
    DeviceReset = 7,
}
