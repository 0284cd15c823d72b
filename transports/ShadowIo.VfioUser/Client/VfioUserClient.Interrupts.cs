using ShadowIo.Native;
using ShadowIo.VfioUser.Protocol;

namespace ShadowIo.VfioUser.Client;

/// <summary>SET_IRQS: interrupts arrive on eventfds this client creates and hands over.</summary>
public sealed partial class VfioUserClient
{
    /// <summary>
    /// Enables MSI-X vectors 0..<paramref name="count"/>−1 with one new eventfd each (GET_IRQ_INFO
    /// MSIX to check the device has that many, then SET_IRQS DATA_EVENTFD|TRIGGER, in chunks of the
    /// server's max_msg_fds).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1 or above the device's vectors.</exception>
    /// <exception cref="VfioUserException">The server refused.</exception>
    public VfioUserMsix EnableMsix(int count)
    {
        IrqInfo info;
        lock (_gate)
        {
            int length = IrqInfo.EncodeRequest(_request, IrqIndex.Msix);
            Exchange(VfioUserCommand.DeviceGetIrqInfo, length, default, maxReplyFds: 0);
            if (IrqInfo.DecodeReply(_message.Payload, out info) != 0 || info.Index != IrqIndex.Msix)
                throw Broken("GET_IRQ_INFO MSIX: the reply is malformed");
        }
        if (count < 1 || (uint)count > info.Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The device has {info.Count} MSI-X vectors.");
        if ((info.Flags & IrqInfoFlags.EventFd) == 0) throw new VfioUserException(Errno.ENOTSUP, "GET_IRQ_INFO MSIX: the vectors are not signalled through eventfds");
        var vectors = new EventFd[count];
        int created = 0;
        try
        {
            for (; created < count; created++) vectors[created] = EventFd.Create($"MSI-X vector {created} of the vfio-user device");
            Span<int> fds = stackalloc int[Math.Min(count, ServerMaxMessageFds)];
            for (int start = 0; start < count; start += fds.Length)
            {
                int chunk = Math.Min(fds.Length, count - start);
                for (int i = 0; i < chunk; i++) fds[i] = vectors[start + i].Fd;
                var request = new IrqSetRequest(IrqSetFlags.DataEventFd | IrqSetFlags.ActionTrigger, IrqIndex.Msix, (uint)start, (uint)chunk);
                lock (_gate)
                {
                    int length = request.Encode(_request);
                    Exchange(VfioUserCommand.DeviceSetIrqs, length, fds[..chunk], maxReplyFds: 0);
                    RequireEmptyReply("SET_IRQS");
                }
            }
            var msix = new VfioUserMsix(vectors);
            lock (_gate) _msix.Add(msix);
            return msix;
        }
        catch
        {
            for (int i = 0; i < created; i++) vectors[i].Dispose();
            throw;
        }
    }
}
