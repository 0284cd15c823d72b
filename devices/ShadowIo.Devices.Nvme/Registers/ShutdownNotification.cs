namespace ShadowIo.Devices.Nvme;

/// <summary>CC.SHN: the host's shutdown notification (NVMe base spec, figure "CC").</summary>
public enum ShutdownNotification
{
    None = 0,
    Normal = 1,
    Abrupt = 2,
}

/// <summary>CSTS.SHST: where the controller is in shutdown processing.</summary>
public enum ShutdownStatus
{
    Normal = 0,
    Occurring = 1,
    Complete = 2,
}
