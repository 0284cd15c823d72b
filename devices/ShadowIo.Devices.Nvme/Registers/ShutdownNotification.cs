namespace ShadowIo.Devices.Nvme;

/// <summary>CC.SHN: the host's shutdown notification (NVMe base spec, figure "CC").</summary>
public enum ShutdownNotification
{
    /// <summary>No notification.</summary>
    None = 0,
    /// <summary>Normal shutdown.</summary>
    Normal = 1,
    /// <summary>Abrupt shutdown.</summary>
    Abrupt = 2,
}

/// <summary>CSTS.SHST: where the controller is in shutdown processing.</summary>
public enum ShutdownStatus
{
    /// <summary>Normal operation: no shutdown requested.</summary>
    Normal = 0,
    /// <summary>Shutdown processing occurring.</summary>
    Occurring = 1,
    /// <summary>Shutdown processing complete.</summary>
    Complete = 2,
}
