using ShadowIo.Native;

namespace ShadowIo.VfioUser.Protocol;

/// <summary>DEVICE_RESET: no payload either way; QEMU sends it only when DEVICE_GET_INFO had the RESET flag.</summary>
internal static class DeviceReset
{
    /// <summary>Decodes a request: EINVAL for any payload or fd.</summary>
    public static int DecodeRequest(ReadOnlySpan<byte> payload, int fdCount) => payload.IsEmpty && fdCount == 0 ? 0 : Errno.EINVAL;
}
