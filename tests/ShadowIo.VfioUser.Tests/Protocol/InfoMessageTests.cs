using ShadowIo.VfioUser.Protocol;
using Xunit;
using static Tmds.Linux.LibC;

namespace ShadowIo.VfioUser.Tests.Protocol;

/// <summary>DEVICE_GET_INFO, GET_IRQ_INFO and DEVICE_RESET.</summary>
public sealed class InfoMessageTests
{
    [Fact]
    public void Device_info_round_trips_and_its_request_needs_argsz_16_without_fds()
    {
        var bytes = new byte[DeviceInfo.WireSize];
        Assert.Equal(16, DeviceInfo.EncodeRequest(bytes));
        Assert.Equal(0, DeviceInfo.DecodeRequest(bytes, 0));
        Assert.Equal(EINVAL, DeviceInfo.DecodeRequest(bytes, 1));
        Assert.Equal(EINVAL, DeviceInfo.DecodeRequest(bytes.AsSpan(0, 15), 0));
        Assert.Equal(EINVAL, DeviceInfo.DecodeRequest(new Payload().U32(15).U32(0).U32(0).U32(0), 0));

        var info = new DeviceInfo(DeviceInfoFlags.Pci | DeviceInfoFlags.Reset, RegionIndex.Count, IrqIndex.Count);
        Assert.Equal(16, info.EncodeReply(bytes));
        Assert.Equal(new Payload().U32(16).U32(3).U32(9).U32(5).ToArray(), bytes);
        Assert.Equal(0, DeviceInfo.DecodeReply(bytes, out var decoded));
        Assert.Equal(info, decoded);
        Assert.Equal(EINVAL, DeviceInfo.DecodeReply(new Payload().U32(16).U32(4).U32(9).U32(5), out _));
    }

    [Fact]
    public void Irq_info_round_trips_and_refuses_an_index_past_REQ()
    {
        var bytes = new byte[IrqInfo.WireSize];
        Assert.Equal(16, IrqInfo.EncodeRequest(bytes, IrqIndex.Msix));
        Assert.Equal(0, IrqInfo.DecodeRequest(bytes, 0, out var index));
        Assert.Equal(IrqIndex.Msix, index);
        Assert.Equal(EINVAL, IrqInfo.DecodeRequest(new Payload().U32(16).U32(0).U32(5).U32(0), 0, out _));
        Assert.Equal(EINVAL, IrqInfo.DecodeRequest(new Payload().U32(12).U32(0).U32(0).U32(0), 0, out _));
        Assert.Equal(EINVAL, IrqInfo.DecodeRequest(bytes, 1, out _));

        var info = new IrqInfo(IrqInfoFlags.EventFd | IrqInfoFlags.NoResize, IrqIndex.Msix, 65);
        Assert.Equal(16, info.EncodeReply(bytes));
        Assert.Equal(0, IrqInfo.DecodeReply(bytes, out var decoded));
        Assert.Equal(info, decoded);
        Assert.Equal(EINVAL, IrqInfo.DecodeReply(new Payload().U32(16).U32(16).U32(2).U32(1), out _));
    }

    [Fact]
    public void Device_reset_carries_nothing()
    {
        Assert.Equal(0, DeviceReset.DecodeRequest([], 0));
        Assert.Equal(EINVAL, DeviceReset.DecodeRequest([0], 0));
        Assert.Equal(EINVAL, DeviceReset.DecodeRequest([], 1));
    }
}
