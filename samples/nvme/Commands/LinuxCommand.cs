using System.CommandLine;
using ShadowIo.Devices.Virtio;
using ShadowIo.LinuxGuest;
using ShadowIo.Samples.Nvme.Linux;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>
/// <c>linux</c>: the real Linux nvme driver, nvme-cli and fio (Debian 6.1 guest under QEMU TCG)
/// against the sample controller served over vfio-user to QEMU 11.1, then the same guest and jobs
/// against QEMU's own <c>-device nvme</c> (null-co) under the same QEMU; and Linux's virtio_blk on
/// our virtio-blk device beside QEMU's own <c>-device virtio-blk-pci</c>; prints each pair side by side.
/// </summary>
internal static class LinuxCommand
{
    public static Command Create()
    {
        var runtime = new Option<int>("--runtime")
        {
            Description = "Seconds each measured fio job runs (1..120).",
            DefaultValueFactory = _ => 8,
            HelpName = "seconds",
        };
        runtime.AcceptRange(1, 120);
        var spin = new Option<int>("--spin-us")
        {
            Description = "Microseconds the device thread keeps polling after the last request before it sleeps, keeping the guest's doorbells and notifies suppressed while it does (0..100000; 0 on a host whose cores are busy: the spinning thread then takes a core from the TCG vCPUs).",
            DefaultValueFactory = _ => (int)LinuxComparison.DefaultSpin.TotalMicroseconds,
            HelpName = "microseconds",
        };
        spin.AcceptRange(0, 100_000);
        var peer = new Option<string>("--peer")
        {
            Description = "Which devices to run: both, shadowio or qemu.",
            DefaultValueFactory = _ => "both",
            HelpName = "peer",
        };
        peer.AcceptOnlyFromAmong("both", "shadowio", "qemu");
        var rounds = new Option<int>("--rounds")
        {
            Description = "Runs per device, alternating the two; the table shows each job's best run (1..5).",
            DefaultValueFactory = _ => 1,
            HelpName = "count",
        };
        rounds.AcceptRange(1, 5);
        var setup = new Option<string?>("--guest-setup")
        {
            Description = "Path of guest/setup.sh (default: found by walking up from the current directory).",
            HelpName = "path",
        };
        var device = new Option<string>("--device")
        {
            Description = "Which device pairs to run: both, nvme (our controller vs QEMU's nvme) or virtio-blk (our virtio-blk vs QEMU's virtio-blk-pci).",
            DefaultValueFactory = _ => "both",
            HelpName = "device",
        };
        device.AcceptOnlyFromAmong("both", "nvme", "virtio-blk");
        var doorbells = new Option<string>("--doorbells")
        {
            Description = "How our controller's doorbells reach it over vfio-user: region-write (each store exits in QEMU and arrives as a posted REGION_WRITE), " +
                "mapped (BAR0's doorbell page offered as a sparse mmap area backed by the shadow memfd: stores land in the page, the controller polls it) or both (each, beside one QEMU nvme run).",
            DefaultValueFactory = _ => "region-write",
            HelpName = "delivery",
        };
        doorbells.AcceptOnlyFromAmong("region-write", "mapped", "both");
        var virtioNotify = new Option<string>("--virtio-notify")
        {
            Description = "How our virtio-blk's notify writes reach it: doorbell (trapped into an eventfd the device thread sleeps on) " +
                "or inline (served on the vfio-user server's thread as the REGION_WRITE arrives, one thread hop fewer).",
            DefaultValueFactory = _ => "doorbell",
            HelpName = "delivery",
        };
        virtioNotify.AcceptOnlyFromAmong("doorbell", "inline");
        var json = new Option<bool>("--json") { Description = "Print the results as JSON on stdout (progress goes to stderr)." };
        var verbose = new Option<bool>("--verbose") { Description = "Echo the guest console and the vfio-user server's log to stderr." };

        var command = new Command("linux",
            "Linux's nvme driver, nvme-cli and fio (QEMU 11.1 TCG guest) on the sample controller over vfio-user, " +
            "side by side with QEMU's own nvme, and Linux's virtio_blk on our virtio-blk over vfio-user beside QEMU's virtio-blk-pci: " +
            "IOPS, mean latency, doorbell/notify writes per I/O.")
        {
            runtime, spin, peer, rounds, device, doorbells, virtioNotify, setup, json, verbose,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            bool asJson = parsed.GetValue(json);
            bool chatty = parsed.GetValue(verbose);
            var progress = Console.Error;
            string script = parsed.GetValue(setup) ?? FindSetupScript();
            progress.WriteLine("linux: setting up the Debian guest (guest/setup.sh; cached after the first run)...");
            if (!File.Exists(script))
                throw new FileNotFoundException($"guest set-up script not found at {script} (pass --guest-setup or run from the repository).");
            var image = await GuestImage.GetAsync(script, chatty ? progress.WriteLine : null, cancellationToken);
            progress.WriteLine("linux: setting up the trixie root with QEMU 11.1 (guest/qemu-root.sh; cached after the first run)...");
            var root = await QemuRoot.GetAsync(Path.Combine(Path.GetDirectoryName(script)!, "qemu-root.sh"), chatty ? progress.WriteLine : null, cancellationToken);
            var comparison = new LinuxComparison
            {
                Image = image,
                RuntimeSeconds = parsed.GetValue(runtime),
                Spin = TimeSpan.FromMicroseconds(parsed.GetValue(spin)),
                VirtioNotify = parsed.GetValue(virtioNotify) == "inline" ? VirtioNotifyDelivery.Inline : VirtioNotifyDelivery.Doorbells,
                Log = line =>
                {
                    if (chatty) progress.WriteLine(line);
                    else if (line.StartsWith(GuestScript.JobBeginPrefix, StringComparison.Ordinal)) progress.WriteLine($"linux:   {line[GuestScript.JobBeginPrefix.Length..]}");
                },
            };
            string which = parsed.GetValue(peer)!;
            string devices = parsed.GetValue(device)!;
            bool runNvme = devices is "both" or "nvme";
            bool runVirtio = devices is "both" or "virtio-blk";
            var empty = new PeerResult("(not run)", [], null, null, "", TimeSpan.Zero);
            string delivery = parsed.GetValue(doorbells)!;
            DoorbellDelivery[] deliveries = delivery switch
            {
                "mapped" => [DoorbellDelivery.Mapped],
                "both" => [DoorbellDelivery.RegionWrite, DoorbellDelivery.Mapped],
                _ => [DoorbellDelivery.RegionWrite],
            };
            var mappedRuns = new List<PeerResult>();
            var ourRuns = new List<PeerResult>();
            var qemuRuns = new List<PeerResult>();
            var ourVirtioRuns = new List<PeerResult>();
            var qemuVirtioRuns = new List<PeerResult>();
            int count = parsed.GetValue(rounds);
            for (int round = 1; round <= count; round++)
            {
                string of = count > 1 ? $" (round {round} of {count})" : "";
                if (runVirtio && which is "both" or "shadowio")
                {
                    progress.WriteLine($"linux: booting the guest with our virtio-blk behind vfio-user-pci{of}...");
                    ourVirtioRuns.Add(await comparison.RunShadowIoVirtioBlkVfioUserAsync(root, cancellationToken));
                }
                if (runVirtio && which is "both" or "qemu")
                {
                    progress.WriteLine($"linux: booting the guest with QEMU's -device virtio-blk-pci (null-co) under QEMU {root.QemuVersion}{of}...");
                    qemuVirtioRuns.Add(await comparison.RunQemuVirtioBlkAsync(root, cancellationToken));
                }
                if (!runNvme) continue;
                if (which is "both" or "shadowio")
                {
                    progress.WriteLine($"linux: booting the guest with the sample controller behind vfio-user-pci{of}...");
                    foreach (var d in deliveries)
                    {
                        if (deliveries.Length > 1) progress.WriteLine($"linux:   doorbells {(d == DoorbellDelivery.Mapped ? "mapped" : "region-write")}");
                        (d == DoorbellDelivery.Mapped && deliveries.Length > 1 ? mappedRuns : ourRuns).Add(await comparison.RunShadowIoVfioUserAsync(root, d, cancellationToken));
                    }
                }
                if (which is "both" or "qemu")
                {
                    progress.WriteLine($"linux: booting the guest with QEMU's -device nvme (null-co) under QEMU {root.QemuVersion}{of}...");
                    qemuRuns.Add(await comparison.RunQemuNvmeAsync(root, cancellationToken));
                }
            }
            var ours = ourRuns.Count > 0 ? PeerResult.Best(ourRuns) : empty;
            var qemu = qemuRuns.Count > 0 ? PeerResult.Best(qemuRuns) : empty;
            var result = new ComparisonResult(ours, qemu);
            var mappedResult = mappedRuns.Count > 0 ? new ComparisonResult(PeerResult.Best(mappedRuns), qemu) : null;
            var virtio = runVirtio ? new ComparisonResult(
                ourVirtioRuns.Count > 0 ? PeerResult.Best(ourVirtioRuns) : empty, qemuVirtioRuns.Count > 0 ? PeerResult.Best(qemuVirtioRuns) : empty) : null;
            if (asJson) Console.Out.WriteLine(ComparisonTable.Json(result, virtio, mappedResult));
            else
            {
                if (runNvme) Console.Out.WriteLine(ComparisonTable.Render(result));
                if (mappedResult != null) Console.Out.WriteLine(ComparisonTable.Render(mappedResult));
                if (virtio != null) Console.Out.WriteLine(ComparisonTable.Render(virtio, virtio: true));
            }
            // A run Linux had to rescue (timeouts, aborts, resets during I/O) is no measurement.
            bool ok = (!runNvme || Healthy(result, which)) && (mappedResult == null || Healthy(mappedResult, which))
                && (virtio == null || Healthy(virtio, which));
            return ok ? 0 : CommandLineHost.Failure;
        });
        return command;
    }

    private static bool Healthy(ComparisonResult result, string which) =>
        (which == "qemu" || (result.ShadowIo.RoundTripOk == true && result.ShadowIo.Jobs.All(j => j.Succeeded)
            && result.ShadowIo.KernelLog.FindProblem() is null && result.ShadowIo.Controller?.Commands.FindProblem() is null
            && result.ShadowIo.Virtio is not { NeedsResetRaised: > 0 } and not { InternalErrors: > 0 }))
        && (which == "shadowio" || (result.Qemu.Jobs.All(j => j.Succeeded) && result.Qemu.KernelLog.FindProblem() is null));

    private static string FindSetupScript()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "guest", "setup.sh");
            if (File.Exists(candidate)) return candidate;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "guest", "setup.sh");
            if (File.Exists(candidate)) return candidate;
        }
        throw new UserErrorException("guest/setup.sh not found above the current directory; pass --guest-setup <path>.");
    }
}
