using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ShadowIo.Devices.Storage;
using ShadowIo.Hosting;
using ShadowIo.Samples.Nvme.Guest;
using ShadowIo.Samples.Nvme.Linux;
using ShadowIo.VfioUser.Client;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>
/// The hidden verb <c>vfio-user-device SOCKET</c>: the workload's device process under
/// <c>--transport vfio-user</c>. Serves the NVMe controller over vfio-user (<see cref="NvmeVfioUserHost"/>)
/// with the controller thread run exactly as <see cref="ControllerHost"/> runs it in process (event
/// driven with a spin, or adaptive polling for EventIdx), prints
/// <see cref="VfioUserDeviceProcess.ReadyLine"/> once it listens and, when the VMM has gone, one JSON
/// report line.
/// </summary>
internal static class NvmeDeviceCommand
{
    public const string Name = "vfio-user-device";

    /// <summary>What follows the socket path for a run with <paramref name="settings"/>.</summary>
    public static IEnumerable<string> Arguments(WorkloadSettings settings, bool polling)
    {
        yield return "--bytes";
        yield return ((long)settings.Blocks * WorkloadLayout.PageSize).ToString(CultureInfo.InvariantCulture);
        if (settings.BackingFile is { } file)
        {
            yield return "--backing-file";
            yield return file;
        }
        if (polling) yield return "--polling";
        yield return "--event-spin-us";
        yield return ((long)settings.EventSpin.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        yield return "--poll-idle-us";
        yield return ((long)settings.PollIdle.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
    }

    public static Command Create()
    {
        var socket = new Argument<string>("socket") { Description = "Where to listen." };
        var bytes = new Option<long>("--bytes") { Description = "Bytes of the memory namespace.", Required = true };
        var backingFile = new Option<string?>("--backing-file") { Description = "Back the namespace with this file." };
        var polling = new Option<bool>("--polling") { Description = "Poll the doorbells (EventIdx) instead of waiting for each." };
        var eventSpin = new Option<long>("--event-spin-us") { Description = "Microseconds the event-driven thread spins before it sleeps." };
        var pollIdle = new Option<long>("--poll-idle-us") { Description = "Microseconds without work before the polling thread sleeps." };
        var command = new Command(Name, "Serves the workload's NVMe controller over vfio-user (started by --transport vfio-user).")
        {
            socket, bytes, backingFile, polling, eventSpin, pollIdle,
        };
        command.Hidden = true;
        command.SetAction(parsed => Serve(
            parsed.GetValue(socket)!, parsed.GetValue(bytes), parsed.GetValue(backingFile), parsed.GetValue(polling),
            TimeSpan.FromMicroseconds(parsed.GetValue(eventSpin)), TimeSpan.FromMicroseconds(parsed.GetValue(pollIdle))));
        return command;
    }

    private static int Serve(string socketPath, long bytes, string? backingFile, bool polling, TimeSpan eventSpin, TimeSpan pollIdle)
    {
        using IBlockStorage storage = backingFile is null ? new MemoryBlockStorage(bytes) : FileBlockStorage.Open(backingFile);
        var runner = ControllerHost.RunnerOptions(polling, eventSpin, pollIdle);
        using var host = new NvmeVfioUserHost(socketPath, storage, pollIdle, DoorbellDelivery.RegionWrite, line => Console.Error.WriteLine($"{Name}: {line}"), runner);
        // Set before the VMM connects (it does so only after the ready line): as ControllerHost sets it before its thread starts.
        host.Controller.IsPolling = polling;
        Console.WriteLine(VfioUserDeviceProcess.ReadyLine);
        Console.Out.Flush();
        host.Host.Running.GetAwaiter().GetResult();
        host.Host.CheckHealth();
        var report = new
        {
            doorbell_events = host.Host.DoorbellEvents,
            sleeps = host.Host.Sleeps,
            mmio_doorbell_writes = host.Host.MmioDoorbellWrites,
            doorbell_buffer_configured = host.FirstDoorbellBuffer is not null,
            end = host.Server.EndReason,
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        Console.Out.Flush();
        return 0;
    }
}
