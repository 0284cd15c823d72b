namespace ShadowIo.Devices.Virtio;

/// <summary>virtio-blk constants (virtio 1.2, section 5.2).</summary>
public static class VirtioBlkConstants
{
    /// <summary>Virtio device ID of a block device (section 5).</summary>
    public const ushort DeviceId = 2;

    /// <summary>Requests address the device in 512-byte sectors, whatever <c>blk_size</c> says (5.2.6).</summary>
    public const int SectorSize = 512;

    /// <summary>Bytes of the request header: <c>le32 type, le32 reserved, le64 sector</c>.</summary>
    public const int RequestHeaderLength = 16;

    /// <summary>VIRTIO_BLK_ID_BYTES: the length of the GET_ID answer (a serial number, NUL-padded).</summary>
    public const int IdBytes = 20;
}

/// <summary>The <c>type</c> of a virtio-blk request (5.2.6).</summary>
public enum VirtioBlkRequestType : uint
{
    /// <summary>VIRTIO_BLK_T_IN: read sectors into the device-writable buffers.</summary>
    In = 0,
    /// <summary>VIRTIO_BLK_T_OUT: write sectors from the device-readable buffers.</summary>
    Out = 1,
    /// <summary>VIRTIO_BLK_T_FLUSH: make earlier writes durable.</summary>
    Flush = 4,
    /// <summary>VIRTIO_BLK_T_GET_ID: the device ID string.</summary>
    GetId = 8,
    /// <summary>VIRTIO_BLK_T_GET_LIFETIME (not supported).</summary>
    GetLifetime = 10,
    /// <summary>VIRTIO_BLK_T_DISCARD (not supported).</summary>
    Discard = 11,
    /// <summary>VIRTIO_BLK_T_WRITE_ZEROES (not supported).</summary>
    WriteZeroes = 13,
    /// <summary>VIRTIO_BLK_T_SECURE_ERASE (not supported).</summary>
    SecureErase = 14,
}

/// <summary>The status byte a request ends with (5.2.6).</summary>
public enum VirtioBlkStatus : byte
{
    /// <summary>VIRTIO_BLK_S_OK.</summary>
    Ok = 0,
    /// <summary>VIRTIO_BLK_S_IOERR: the request failed (bad sector range, unusable buffers, backend error).</summary>
    IoError = 1,
    /// <summary>VIRTIO_BLK_S_UNSUPP: the request type is not supported.</summary>
    Unsupported = 2,
}
