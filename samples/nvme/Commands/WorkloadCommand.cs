using System.CommandLine;
using System.CommandLine.Parsing;
using ShadowIo.Samples.Nvme.Guest;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>
/// The root command: runs the NVMe workload through a real KVM guest in each doorbell mode and
/// prints the table (or JSON).
/// </summary>
internal static class WorkloadCommand
{
    public static RootCommand Create()
    {
        var backingFile = new Option<string?>("--backing-file")
        {
            Description = "Back the namespace with this existing file instead of memory (it must hold blocks x 4096 bytes).",
            HelpName = "path",
        };
        var blocks = new Option<int>("--blocks")
        {
            Description = $"4 KiB blocks written, read back and verified at each queue depth (1..{WorkloadOptions.MaxBlocks}).",
            DefaultValueFactory = _ => WorkloadOptions.DefaultBlocks,
            HelpName = "count",
        };
        blocks.AcceptRange(1, WorkloadOptions.MaxBlocks);
        var queueDepth = new Option<int>("--queue-depth")
        {
            Description = $"Commands in flight in the second phase; the first always runs at depth 1 (1..{WorkloadOptions.MaxQueueDepth}).",
            DefaultValueFactory = _ => WorkloadOptions.DefaultQueueDepth,
            HelpName = "depth",
        };
        queueDepth.AcceptRange(1, WorkloadOptions.MaxQueueDepth);
        var rounds = new Option<int>("--rounds")
        {
            Description = $"Write/read/verify cycles per mode; IOPS and ns per doorbell are the best round's (1..{WorkloadOptions.MaxRounds}).",
            DefaultValueFactory = _ => WorkloadOptions.DefaultRounds,
            HelpName = "count",
        };
        rounds.AcceptRange(1, WorkloadOptions.MaxRounds);
        var mode = new Option<string>("--mode")
        {
            Description = "Doorbell mode to run: all, trap, ioeventfd, eventidx or post-write.",
            DefaultValueFactory = _ => "all",
            HelpName = "mode",
        };
        mode.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (value is null || (value != "all" && !WorkloadModes.TryParse(value, out _)))
                result.AddError($"--mode '{value}' is not one of: all, {string.Join(", ", WorkloadModes.All.Select(m => m.Name()))}.");
        });
        var kvmDevice = new Option<string>("--kvm")
        {
            Description = "The KVM device node to open.",
            DefaultValueFactory = _ => ShadowIo.Kvm.KvmSystem.DefaultPath,
            HelpName = "path",
        };
        var transport = new Option<string>("--transport")
        {
            Description = "Where the controller runs: in-process, or vfio-user (a device process this program starts, attached with our vfio-user client).",
            DefaultValueFactory = _ => WorkloadTransport.InProcess.Name(),
            HelpName = "transport",
        };
        transport.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (value is null || !WorkloadTransports.TryParse(value, out _))
                result.AddError($"--transport '{value}' is not one of: {string.Join(", ", WorkloadTransports.All.Select(t => t.Name()))}.");
        });
        var json = new Option<bool>("--json") { Description = "Print the results as JSON on stdout (progress still goes to stderr)." };

        var root = new RootCommand(
            "ShadowIo NVMe demo: a CPL3 KVM guest drives the sample NVMe controller (write, read back, verify) " +
            "with doorbells trapped, on ioeventfds, behind EventIdx, and through the kernel post-write patch.")
        {
            backingFile, blocks, queueDepth, rounds, mode, transport, kvmDevice, json,
        };
        root.SetAction(parsed =>
        {
            string modeName = parsed.GetValue(mode)!;
            var options = new WorkloadOptions
            {
                BackingFile = parsed.GetValue(backingFile),
                Blocks = parsed.GetValue(blocks),
                QueueDepth = parsed.GetValue(queueDepth),
                Rounds = parsed.GetValue(rounds),
                Modes = modeName == "all" ? WorkloadModes.All : [WorkloadModes.TryParse(modeName, out var m) ? m : throw new UserErrorException($"unknown mode '{modeName}'.")],
                KvmDevice = parsed.GetValue(kvmDevice)!,
                Json = parsed.GetValue(json),
                Transport = WorkloadTransports.TryParse(parsed.GetValue(transport)!, out var t) ? t : throw new UserErrorException($"unknown transport '{parsed.GetValue(transport)}'."),
            };
            return WorkloadAction.Run(options);
        });
        return root;
    }
}
