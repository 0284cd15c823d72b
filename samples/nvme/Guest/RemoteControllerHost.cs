using ShadowIo.Binding;
using ShadowIo.Hosting;
using ShadowIo.Kvm;
using ShadowIo.Samples.Nvme.Commands;
using ShadowIo.Testing;
using ShadowIo.VfioUser.Client;

namespace ShadowIo.Samples.Nvme.Guest;

/// <summary>
/// The VMM side of one run with the controller in another process (<c>--transport vfio-user</c>):
/// this program again as <see cref="NvmeDeviceCommand"/>, serving the controller over vfio-user;
/// our <see cref="VfioUserClient"/> shares guest RAM with it (DMA_MAP with the RAM's memfd) and
/// attaches BAR0, registering the server's I/O doorbell fds with KVM in the mode under test. The
/// admin doorbells and every register access are REGION_READ/REGION_WRITE, as in process they
/// are MMIO dispatch on the vCPU thread.
/// </summary>
internal sealed class RemoteControllerHost : IControllerHost
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly VfioUserDeviceProcess _device;
    private readonly VfioUserClient _client;
    private readonly VfioUserBar _bar;

    /// <exception cref="KvmException">The mode needs a kernel feature this kernel lacks.</exception>
    /// <exception cref="WorkloadException">The device process did not start, or the link failed.</exception>
    public RemoteControllerHost(TestGuest guest, WorkloadSettings settings, ulong bar, DoorbellBindingMode bindingMode, bool polling)
    {
        try
        {
            _device = VfioUserDeviceProcess.Start(VfioUserDeviceProcess.ProgramOf(typeof(RemoteControllerHost).Assembly),
                NvmeDeviceCommand.Name, NvmeDeviceCommand.Arguments(settings, polling), Patience);
        }
        catch (InvalidOperationException e)
        {
            throw new WorkloadException(e.Message, e);
        }
        try
        {
            _client = VfioUserClient.Connect(_device.SocketPath, log: line => Console.Error.WriteLine($"vfio-user client: {line}"));
            try
            {
                _client.MapGuestMemory(guest.Vm);
                Bus = new MmioBus();
                _bar = _client.AttachBar(0, bar, Bus, guest.Vm, bindingMode);
            }
            catch
            {
                _client.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is VfioUserException or IOException)
        {
            string message = $"vfio-user: {e.Message}{(_device.ExitDescription is { } exit ? $" ({exit})" : "")}";
            _device.Dispose();
            throw new WorkloadException(message, e);
        }
        catch
        {
            _device.Dispose();
            throw;
        }
    }

    public MmioBus Bus { get; } = null!;

    public bool IsGuestShadowAttached => _bar.Doorbells?.IsGuestShadowAttached ?? false;

    /// <summary>The controller's reason lives in the device process; its stderr has it.</summary>
    public string? LastEnableFailure => null;

    /// <summary>
    /// The controller in the device process took Doorbell Buffer Config and reads the I/O tails
    /// and heads from the guest's page from now on; the ioeventfds must become wildcards, which
    /// only this process can do: KVM refuses VM ioctls from any process but the VM's creator
    /// (<c>kvm_vm_ioctl</c>: <c>kvm->mm != current->mm</c> gives EIO), and vfio-user has no
    /// message by which a server announces that its region IO fds changed. So the VMM, which ran
    /// the command and saw it succeed, attaches the page the command named, as the in-process
    /// controller's callback does inside the command. Until then doorbells trap into the
    /// device's shadow memfd, which is what the controller reads before the config.
    /// </summary>
    public void DoorbellBufferConfigured(ShadowRegion guestShadow)
    {
        if (_bar.Doorbells is { Mode: DoorbellBindingMode.GuestShadow } binding) binding.AttachGuestShadow(guestShadow);
    }

    public void CheckHealth()
    {
        string? failure = _device.ExitDescription ??
            (_client.FailedAccesses != 0 ? $"{_client.FailedAccesses} REGION_READ/REGION_WRITE(s) to the vfio-user device process failed." : null);
        if (failure is null) return;
        _failed = true;
        throw new WorkloadException(failure);
    }

    private bool _failed;

    /// <summary>
    /// Closes the link (the device process then reports and exits 0), then checks it did; after a
    /// failure already reported the device's end is not checked again, so that error is the one the user sees.
    /// </summary>
    /// <exception cref="WorkloadException">The device process did not end cleanly.</exception>
    public void Dispose()
    {
        _client.Dispose();
        try
        {
            if (!_failed) _device.ReadReport();
        }
        catch (InvalidOperationException e)
        {
            throw new WorkloadException(e.Message, e);
        }
        finally
        {
            _device.Dispose();
        }
    }
}
