using ShadowIo.Native;
using ShadowIo.Pci;
using ShadowIo.Qemu.Protocol;
using static Tmds.Linux.LibC;

namespace ShadowIo.Qemu;

/// <summary>
/// One handler per command of hw/remote/message.c's loop. Requests the proxy waits for
/// (config, BAR, reset) always get exactly one RET, malformed or not; SYNC_SYSMEM and SET_IRQFD
/// never do.
/// </summary>
public sealed partial class QemuProxyServer
{
    private void Dispatch(MpqemuMessage message)
    {
        switch ((MpqemuCommand)message.Command)
        {
            case MpqemuCommand.PciConfigRead: HandleConfigRead(message); break;
            case MpqemuCommand.PciConfigWrite: HandleConfigWrite(message); break;
            case MpqemuCommand.BarRead: HandleBarRead(message); break;
            case MpqemuCommand.BarWrite: HandleBarWrite(message); break;
            case MpqemuCommand.SyncSysmem: HandleSyncSysmem(message); break;
            case MpqemuCommand.SetIrqfd: HandleSetIrqfd(message); break;
            case MpqemuCommand.DeviceReset: HandleDeviceReset(message); break;
            default:
                // Nothing waits for a reply to a command QEMU never sends; answering would
                // desynchronise the next real request, so drop it.
                Reject(message, "unknown command; dropped");
                break;
        }
    }

    private void HandleConfigRead(MpqemuMessage message)
    {
        Statistics.ConfigReadsField++;
        if (!ExpectPayload(message, MpqemuWire.ConfigAccessSize, fds: 0)) { _channel.SendReturn(MpqemuWire.ErrorValue); return; }
        var access = ConfigAccess.Parse(message.Payload);
        if (!PciConfigSpace.IsValidAccess(access.Address, access.Length))
        {
            Reject(message, $"config read of {access.Length} bytes at 0x{access.Address:x}");
            _channel.SendReturn(MpqemuWire.ErrorValue);
            return;
        }
        _channel.SendReturn(ConfigSpace.Read(access.Address, access.Length));
    }

    private void HandleConfigWrite(MpqemuMessage message)
    {
        Statistics.ConfigWritesField++;
        if (!ExpectPayload(message, MpqemuWire.ConfigAccessSize, fds: 0)) { _channel.SendReturn(MpqemuWire.ErrorValue); return; }
        var access = ConfigAccess.Parse(message.Payload);
        if (!ConfigSpace.Write(access.Address, access.Value, access.Length))
        {
            Reject(message, $"config write of {access.Length} bytes at 0x{access.Address:x}");
            _channel.SendReturn(MpqemuWire.ErrorValue);
            return;
        }
        Interrupt.SetMasked(ConfigSpace.InterruptDisabled);
        _channel.SendReturn(0);
    }

    private void HandleBarRead(MpqemuMessage message)
    {
        Statistics.BarReadsField++;
        if (!TryRouteBar(message, out var access, out var bar, out ulong offset))
        {
            _channel.SendReturn(MpqemuWire.ErrorValue);
            return;
        }
        _channel.SendReturn(bar.Device.ReadMmio(offset, (int)access.Size));
    }

    private void HandleBarWrite(MpqemuMessage message)
    {
        Statistics.BarWritesField++;
        if (!TryRouteBar(message, out var access, out var bar, out ulong offset))
        {
            _channel.SendReturn(MpqemuWire.ErrorValue);
            return;
        }
        // The proxy's vCPU waits for this RET before the guest's store retires, so the order
        // guest store → shadow/register update → eventfd is the same as a KVM exit.
        var doorbells = bar.Doorbells;
        if (doorbells != null && doorbells.Table.TryFind(offset, out _)) Statistics.DoorbellWritesField++;
        if (doorbells == null || !doorbells.TryHandleWrite(offset, (int)access.Size, access.Value))
            bar.Device.WriteMmio(offset, (int)access.Size, access.Value);
        _channel.SendReturn(0);
    }

    private bool TryRouteBar(MpqemuMessage message, out BarAccess access, out PciBar bar, out ulong offset)
    {
        access = default;
        bar = null!;
        offset = 0;
        if (!ExpectPayload(message, MpqemuWire.BarAccessSize, fds: 0)) return false;
        access = BarAccess.Parse(message.Payload);
        if (access.Size is not (1 or 2 or 4 or 8))
        {
            Reject(message, $"BAR access of {access.Size} bytes at 0x{access.Address:x}");
            return false;
        }
        if (!ConfigSpace.TryRoute(access.Address, access.Size, access.IsMemory, out bar, out offset))
        {
            Reject(message, $"BAR access at {(access.IsMemory ? "gpa" : "port")} 0x{access.Address:x} is outside every BAR");
            return false;
        }
        return true;
    }

    private void HandleSyncSysmem(MpqemuMessage message)
    {
        Statistics.MemorySyncsField++;
        // No reply: the proxy's memory listener does not wait.
        if (message.PayloadSize != MpqemuWire.SyncSysmemSize || message.FdCount > MpqemuWire.MaxFds || message.FdsTruncated)
        {
            Reject(message, $"SYNC_SYSMEM with {message.PayloadSize}-byte payload and {message.FdCount} fds; memory map kept");
            return;
        }
        int count = message.FdCount;
        var fds = new FileDescriptorHandle[count];
        for (int i = 0; i < count; i++)
        {
            _sysmemRegions[i] = SysmemLayout.Read(message.Payload, i);
            fds[i] = message.Fds.Take(i);
        }
        RamMapper.Apply(_sysmemRegions.AsSpan(0, count), fds);
    }

    private void HandleSetIrqfd(MpqemuMessage message)
    {
        if (message.PayloadSize != 0 || message.FdCount != 2)
        {
            Reject(message, $"SET_IRQFD with {message.PayloadSize}-byte payload and {message.FdCount} fds; ignored");
            return;
        }
        if (!FileDescriptors.IsEventFd(message.Fds.Peek(0)) || !FileDescriptors.IsEventFd(message.Fds.Peek(1)))
        {
            // Polling a memfd or regular file as the resample fd would report it readable forever.
            Reject(message, "SET_IRQFD with fds that are not eventfds; ignored");
            return;
        }
        var intr = message.Fds.TakeEventFd(0);
        var resample = message.Fds.TakeEventFd(1);
        // QEMU creates both non-blocking; make sure a draining read can never block the loop.
        resample.SetNonBlocking();
        intr.SetNonBlocking();
        Interrupt.Connect(intr, resample);
    }

    private void HandleDeviceReset(MpqemuMessage message)
    {
        Statistics.ResetsField++;
        if (message.FdCount != 0) Reject(message, "DEVICE_RESET carried fds; closed them");
        ConfigSpace.Reset();
        Interrupt.SetMasked(false);
        Interrupt.SetLevel(false);
        _function.Reset?.Invoke();
        _channel.SendReturn(0);
    }

    private bool ExpectPayload(MpqemuMessage message, int size, int fds)
    {
        if (message.PayloadSize == size && message.FdCount == fds) return true;
        Reject(message, $"expected a {size}-byte payload with {fds} fds, got {message.PayloadSize} bytes and {message.FdCount} fds");
        return false;
    }

    private void Reject(MpqemuMessage message, string why)
    {
        Statistics.RejectedField++;
        _log?.Invoke($"proxy message {message.Command} rejected: {why}");
    }
}
