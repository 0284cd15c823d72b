using System.Text.RegularExpressions;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// The guest kernel's log between the script's I/O markers (<see cref="GuestScript.IoBeginMarker"/>
/// and <see cref="GuestScript.IoEndMarker"/>, written to /dev/kmsg around the round trip and the
/// fio jobs), and what Linux 6.1's nvme driver said in it.
/// </summary>
/// <remarks>
/// <para>Why scoped to the I/O phase: what is measured and verified runs between the markers;
/// probe and power-off (the queue deletion) fall outside them and are reported in the boot's
/// <c>dmesg</c> section instead.</para>
/// <para>The patterns are the driver's format strings in Debian's 6.1.0 kernel (linux-source-6.1
/// 6.1.192: drivers/nvme/host/pci.c, core.c, ioctl.c, nvme.h; block/blk-mq.c), checked against
/// the strings in the guest's nvme.ko and nvme-core.ko. Linux's recovery (timeout → abort →
/// reset → requeue) hides a lost completion from fio, so these lines are the only sign of it.</para>
/// </remarks>
internal sealed record IoPhaseKernelLog(bool MarkersFound, IReadOnlyList<string> Lines)
{
    /// <summary>Lines that mean a command was not completed in time, was aborted, or the controller was reset or failed.</summary>
    private static readonly (Regex Pattern, string Why)[] FailurePatterns =
    [
        // pci.c nvme_timeout: the handler polled the request's CQ and it was still in flight, so
        // no completion had been posted within io_timeout: lost, or later than the timeout.
        (new(@"QID \d+ timeout, aborting"), "\"I/O %d (%s) QID %d timeout, aborting\": no completion within the timeout (pci.c nvme_timeout)"),
        // pci.c nvme_timeout: an aborted command timed out again, or an admin command found no completion.
        (new(@"QID \d+ timeout, reset controller"), "\"I/O %d QID %d timeout, reset controller\" (pci.c nvme_timeout)"),
        // pci.c nvme_timeout: a timeout while the controller was connecting or being deleted.
        (new(@"QID \d+ timeout, disable controller"), "\"I/O %d QID %d timeout, disable controller\" (pci.c nvme_timeout)"),
        // pci.c abort_endio: the driver sent Abort, which it does only after "aborting".
        (new(@"Abort status: 0x"), "\"Abort status: 0x%x\" (pci.c abort_endio)"),
        // pci.c nvme_warn_reset: CSTS.CFS (the controller caught a bug of its own) or all-ones CSTS.
        (new(@"controller is down; will reset"), "\"controller is down; will reset: CSTS=...\" (pci.c nvme_warn_reset)"),
        // ioctl.c NVME_IOCTL_RESET; core.c "resetting controller due to AER", "ANATT timeout, resetting controller."
        (new(@"resetting controller"), "\"resetting controller\" (ioctl.c, core.c)"),
        // core.c nvme_wait_ready: CSTS.RDY never followed CC.EN during a reset.
        (new(@"Device not ready; aborting (reset|initialisation)"), "\"Device not ready; aborting %s, CSTS=0x%x\" (core.c nvme_wait_ready)"),
        // pci.c nvme_reset_work: the reset failed and the controller is removed.
        (new(@"Removing after probe failure"), "\"Removing after probe failure status: %d\" (pci.c)"),
        // pci.c nvme_handle_cqe: a CQE whose command identifier names no request: a second or bogus completion.
        (new(@"invalid id \d+ completed on queue \d+"), "\"invalid id %d completed on queue %d\" (pci.c nvme_handle_cqe)"),
        // nvme.h nvme_find_rq: a CQE for a tag whose request has moved on (a stale, second completion), or no request.
        (new(@"genctr mismatch"), "\"request %#x genctr mismatch (got %#x expected %#x)\" (nvme.h nvme_find_rq)"),
        (new(@"could not locate request for tag"), "\"could not locate request for tag %#x\" (nvme.h nvme_find_rq)"),
        // core.c nvme_log_error: a command completed with an error status (also how requests
        // cancelled by a reset end); block/blk-mq.c blk_print_req_error: an I/O failed upward.
        (new(@"\(sct 0x[0-9a-f]+ / sc 0x[0-9a-f]+\)"), "\"... (sct 0x%x / sc 0x%x)\": an error status (core.c nvme_log_error)"),
        (new(@" error, dev nvme"), "\"%s error, dev %s, sector ...\" (blk-mq.c blk_print_req_error)"),
        // The same for a virtio disk: an I/O failed upward (VIRTIO_BLK_S_IOERR/UNSUPP, or cancelled).
        (new(@" error, dev vd[a-z]"), "\"%s error, dev %s, sector ...\" (blk-mq.c blk_print_req_error)"),
        // virtio_ring.c BAD_RING: a used element the driver cannot take ("id %u out of range",
        // "id %u is not a head!", "Buffer not ..."): the ring is marked broken.
        (new(@"out of range|is not a head|Buffer not"), "BAD_RING: a used element the driver refused (virtio_ring.c)"),
        // virtio_blk.c virtblk_config_changed -> "[vda] new size: ...": a configuration change
        // during I/O, which here only DEVICE_NEEDS_RESET raises (the capacity never changes).
        (new(@"\[vd[a-z]\] new size"), "a configuration change during I/O (DEVICE_NEEDS_RESET raises one)"),
        // Anything else the virtio stack says during I/O about errors, failures, timeouts or resets.
        (new(@"(?i)virtio.*(error|fail|timeout|reset|broken)"), "a virtio_pci/virtio_blk/virtio_ring error, failure, timeout or reset"),
    ];

    /// <summary>
    /// pci.c nvme_timeout "I/O %d QID %d timeout, completion polled": the timer fired and the
    /// handler found the completion already on the CQ. Not a lost completion, so not a failure
    /// line; but with MSI-X it means the interrupt came later than the I/O timeout (30 s), which
    /// is why it is counted and <c>VfioUserNvmeDriverTests</c> asserts none.
    /// </summary>
    private static readonly Regex CompletionPolled = new(@"QID \d+ timeout, completion polled");

    /// <summary>Cuts the I/O phase out of the kernel log text (the markers' lines excluded).</summary>
    public static IoPhaseKernelLog Parse(string kernelLog)
    {
        var lines = new List<string>();
        bool inside = false, begun = false, ended = false;
        foreach (var raw in kernelLog.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Contains(GuestScript.IoBeginMarker, StringComparison.Ordinal))
            {
                inside = begun = true;
                continue;
            }
            if (line.Contains(GuestScript.IoEndMarker, StringComparison.Ordinal))
            {
                ended = begun;
                inside = false;
                continue;
            }
            if (inside && line.Length > 0) lines.Add(line);
        }
        return new IoPhaseKernelLog(begun && ended, lines);
    }

    /// <summary>The I/O phases of several runs of one peer, side by side (markers must be in each).</summary>
    public static IoPhaseKernelLog Combine(IEnumerable<IoPhaseKernelLog> logs)
    {
        var all = logs.ToArray();
        return new IoPhaseKernelLog(all.Length > 0 && all.All(l => l.MarkersFound), all.SelectMany(l => l.Lines).ToArray());
    }

    /// <summary>Each failure line with the driver message it matched.</summary>
    public IReadOnlyList<string> Failures =>
        Lines.SelectMany(line => FailurePatterns.Where(p => p.Pattern.IsMatch(line)).Take(1).Select(p => $"{line.Trim()}    <- {p.Why}")).ToArray();

    /// <summary>How many timeouts found their completion already posted (reported, allowed; see <see cref="CompletionPolled"/>).</summary>
    public int CompletionsPolled => Lines.Count(CompletionPolled.IsMatch);

    /// <summary>Why the I/O phase is not clean, or null.</summary>
    public string? FindProblem()
    {
        if (!MarkersFound)
            return $"the kernel log lacks the I/O phase markers {GuestScript.IoBeginMarker} … {GuestScript.IoEndMarker} (log wrapped, or the script stopped early)";
        var failures = Failures;
        return failures.Count == 0 ? null
            : $"the driver logged {failures.Count} timeout/abort/reset/error line(s) during I/O:\n  " + string.Join("\n  ", failures);
    }

    /// <summary>One line for the report.</summary>
    public string Summary => !MarkersFound ? "I/O phase markers missing"
        : $"{Failures.Count} timeout/abort/reset/error line(s), {CompletionsPolled} completion(s) polled by the timeout handler";
}
