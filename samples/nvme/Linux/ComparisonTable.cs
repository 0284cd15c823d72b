using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>The side-by-side table (text) and the same figures as JSON.</summary>
internal static class ComparisonTable
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <param name="virtio">The virtio-blk pair: the per-I/O column counts notify writes (ours at the server, QEMU's from its virtio_queue_notify trace).</param>
    public static string Render(ComparisonResult result, bool virtio = false)
    {
        var s = new StringBuilder();
        string perIo = virtio ? "nt/IO" : "db/IO";
        string qemu = virtio ? "QEMU vblk IOPS" : "QEMU nvme IOPS";
        if (!virtio) s.AppendLine(result.ShadowIo.Peer);
        s.AppendLine(virtio ? "virtio-blk: our device over vfio-user-pci vs QEMU's -device virtio-blk-pci (null-co); nt/IO = notify writes per I/O"
            : "nvme: our controller vs QEMU's -device nvme (null-co); db/IO = MMIO doorbell writes per I/O");
        s.AppendLine("irq/IO = the disk's interrupts per I/O as the guest kernel counted them (/proc/interrupts)");
        s.AppendLine(CultureInfo.InvariantCulture, $"{"job",-16} | {"ShadowIo IOPS",13} {"lat µs",9} {perIo,6} {"irq/IO",6} | {qemu,14} {"lat µs",9} {perIo,6} {"irq/IO",6} | {"ratio",6}");
        s.AppendLine(new string('-', 110));
        foreach (var job in FioJob.Measured)
        {
            var ours = result.ShadowIo.Find(job.Name);
            var peer = result.Qemu.Find(job.Name);
            // A peer left out (--peer) or a failed job has no ratio, not a ratio of 0.
            string ratio = ours is { Succeeded: true } && peer is { Succeeded: true } && peer.Fio.Iops > 0
                ? (ours.Fio.Iops / peer.Fio.Iops).ToString("0.00", CultureInfo.InvariantCulture) : "-";
            s.AppendLine(CultureInfo.InvariantCulture,
                $"{job.Name,-16} | {Iops(ours),13} {Latency(ours),9} {PerIo(ours),6} {IrqPerIo(ours),6} | {Iops(peer),14} {Latency(peer),9} {PerIo(peer),6} {IrqPerIo(peer),6} | {ratio,6}");
        }
        foreach (var job in FioJob.Verifying)
        {
            var ours = result.ShadowIo.Find(job.Name);
            if (ours == null) continue;
            s.AppendLine(CultureInfo.InvariantCulture, $"{job.Name,-16} | {(ours.Succeeded ? "verified" : "FAILED"),13} {Iops(ours) + " IOPS",-23} | (null-co keeps no data)");
        }
        if (!virtio)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"identify (ShadowIo): {Describe(result.ShadowIo.Identify)}");
            s.AppendLine(CultureInfo.InvariantCulture, $"identify (QEMU):     {Describe(result.Qemu.Identify)}");
        }
        s.AppendLine(CultureInfo.InvariantCulture, $"data round trip (ShadowIo): {(result.ShadowIo.RoundTripOk == true ? "ok" : "FAILED")}");
        s.AppendLine(CultureInfo.InvariantCulture, $"{(virtio ? "virtio_blk" : "nvme")} driver during I/O: ShadowIo {result.ShadowIo.KernelLog.Summary}; QEMU {result.Qemu.KernelLog.Summary}");
        if (result.ShadowIo.Virtio is { } v)
        {
            s.AppendLine(CultureInfo.InvariantCulture,
                $"device: requests {v.RequestsCompleted} (failed {v.RequestsFailed}, unsupported {v.RequestsUnsupported}), notify writes {v.NotifyWrites}, " +
                $"interrupts requested {v.InterruptsRequested} (suppressed {v.InterruptsSuppressed}), re-arm re-read hits {v.RearmRereadHits}, needs-reset {v.NeedsResetRaised}, device sleeps {v.DeviceThreadSleeps}");
            s.AppendLine(CultureInfo.InvariantCulture, $"link: {v.Link}");
        }
        if (result.ShadowIo.Controller is { } c)
        {
            s.AppendLine(CultureInfo.InvariantCulture,
                $"Doorbell Buffer Config: {(c.DoorbellBufferShadow is { } sh ? $"shadow 0x{sh:x}, EventIdx 0x{c.DoorbellBufferEventIdx:x}" : "not sent")}; " +
                $"commands {c.Commands.Fetched}, shadow re-read hits {c.ShadowRereadHits}, controller sleeps {c.ControllerSleeps}, naps {result.ShadowIo.ControllerNaps}");
            s.AppendLine(CultureInfo.InvariantCulture, $"command books: {c.Commands.FindProblem() ?? "every fetched command completed once"} " +
                $"(fetched {c.Commands.Fetched}, completed {c.Commands.Completed}, AERs outstanding {c.Commands.OutstandingAsyncEventRequests}, AERs discarded by reset {c.Commands.DiscardedAsyncEventRequests})");
            s.AppendLine(CultureInfo.InvariantCulture, $"link: {c.LinkStatistics}");
        }
        s.Append(CultureInfo.InvariantCulture, $"guest runs: ShadowIo {Runs(result.ShadowIo)}; QEMU {Runs(result.Qemu)} (best run per job shown)");
        return s.ToString();
    }

    /// <param name="virtio">The virtio-blk pair, under <c>virtioBlk</c> beside the NVMe pair's <c>shadowio</c>/<c>qemu</c>; null when not run.</param>
    /// <param name="mapped">With <c>--doorbells both</c>: our controller with its doorbell page mapped, under <c>shadowioMapped</c>.</param>
    public static string Json(ComparisonResult result, ComparisonResult? virtio = null, ComparisonResult? mapped = null)
    {
        var document = new Dictionary<string, object?>
        {
            ["shadowio"] = Peer(result.ShadowIo),
            ["qemu"] = Peer(result.Qemu),
        };
        if (mapped != null) document["shadowioMapped"] = Peer(mapped.ShadowIo);
        if (virtio != null)
        {
            document["virtioBlk"] = new Dictionary<string, object?>
            {
                ["shadowio"] = Peer(virtio.ShadowIo),
                ["qemu"] = Peer(virtio.Qemu),
                ["perIoCounter"] = "notify writes: ours at the vfio-user server, QEMU's from its virtio_queue_notify trace (TCG: no ioeventfd, every notify traced)",
            };
        }
        return JsonSerializer.Serialize(document, Indented);
    }

    private static Dictionary<string, object?> Peer(PeerResult peer) => new()
    {
        ["peer"] = peer.Peer,
        ["elapsedSeconds"] = Math.Round(peer.Elapsed.TotalSeconds, 1),
        ["measuredPhaseSeconds"] = peer.MeasuredPhase is { } m ? Math.Round(m.TotalSeconds, 1) : null,
        ["rounds"] = peer.Rounds,
        ["identify"] = peer.Identify,
        ["roundTripOk"] = peer.RoundTripOk,
        ["driverFailuresDuringIo"] = peer.KernelLog.Failures,
        ["completionsPolledDuringIo"] = peer.KernelLog.CompletionsPolled,
        ["controller"] = peer.Controller,
        ["virtio"] = peer.Virtio,
        ["interruptsDelivered"] = peer.InterruptsDelivered,
        ["controllerNaps"] = peer.ControllerNaps,
        ["jobs"] = peer.Jobs.Select(j => new Dictionary<string, object?>
        {
            ["name"] = j.Job.Name,
            ["engine"] = j.Job.Engine,
            ["iodepth"] = j.Job.QueueDepth,
            ["verify"] = j.Job.Verify,
            ["ok"] = j.Succeeded,
            ["iops"] = Math.Round(j.Fio.Iops, 1),
            ["meanLatencyMicroseconds"] = Math.Round(j.Fio.MeanLatencyMicroseconds, 1),
            ["ios"] = j.Fio.IoCount,
            ["mmioDoorbellWrites"] = j.DoorbellWrites,
            ["doorbellsPerIo"] = Math.Round(j.DoorbellsPerIo, 3),
            ["guestInterrupts"] = j.GuestInterrupts,
            ["interruptsPerIo"] = j.InterruptsPerIo is { } irq ? Math.Round(irq, 3) : null,
            ["problem"] = j.Fio.Problem,
        }).ToArray(),
    };

    private static string Runs(PeerResult peer) => peer.Jobs.Count == 0 ? "not run"
        : $"{peer.Rounds} x, {peer.Elapsed.TotalSeconds:0} s (start to last measured job {(peer.MeasuredPhase is { } m ? $"{m.TotalSeconds:0.0} s" : "not seen")})";

    private static string Iops(JobResult? r) => r == null ? "-" : r.Succeeded ? r.Fio.Iops.ToString("0", CultureInfo.InvariantCulture) : "FAILED";

    private static string Latency(JobResult? r) => r is { Succeeded: true } ? r.Fio.MeanLatencyMicroseconds.ToString("0.0", CultureInfo.InvariantCulture) : "-";

    private static string PerIo(JobResult? r) => r is { Succeeded: true } ? r.DoorbellsPerIo.ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static string IrqPerIo(JobResult? r) => r is { Succeeded: true, InterruptsPerIo: { } n } ? n.ToString("0.00", CultureInfo.InvariantCulture) : "-";

    private static string Describe(IdentifyReport? id) => id == null ? "unreadable"
        : $"vid 0x{id.VendorId:x4} sn '{id.Serial}' mn '{id.Model}' fr '{id.Firmware}' oacs 0x{id.Oacs:x} mdts {id.Mdts} nn {id.NamespaceCount} nsze {id.NamespaceSize} lba 2^{id.LbaDataShift}";
}
