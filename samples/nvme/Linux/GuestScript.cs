using System.Globalization;
using System.Text;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// The shell script the guest runs (busybox sh, after /init loaded the nvme modules) and the
/// markers that cut its output into sections. The host watches the console for the job markers
/// to read its doorbell counters at job boundaries.
/// </summary>
internal static class GuestScript
{
    public const string SectionPrefix = "@@section ";
    public const string JobBeginPrefix = "@@job-begin ";
    public const string JobEndPrefix = "@@job-end ";
    public const string ExitPrefix = "@@rc ";

    /// <summary>The guest kernel's count of the disk's interrupts, printed before and after each job.</summary>
    public const string InterruptsPrefix = "@@irqs ";

    public const string RoundTripOk = "roundtrip ok";

    /// <summary>Written to /dev/kmsg before fio and the round trip: the kernel log's I/O phase starts here.</summary>
    public const string IoBeginMarker = "SHADOWIO-IO-BEGIN";

    /// <summary>Written to /dev/kmsg after the last fio job.</summary>
    public const string IoEndMarker = "SHADOWIO-IO-END";

    /// <summary>The section holding the kernel log from the I/O phase on (see <see cref="IoPhaseKernelLog"/>).</summary>
    public const string KernelLogSection = "kernel-log-io";

    /// <param name="dataChecks">Identify, round trip and fio verification (a device that keeps data).</param>
    /// <param name="disk">The block device the jobs use (the NVMe namespace when null).</param>
    public static string Build(IReadOnlyList<FioJob> jobs, int runtimeSeconds, int rangeMiB, bool dataChecks, GuestDisk? disk = null)
    {
        disk ??= GuestDisk.Nvme;
        var s = new StringBuilder();
        s.Append("dev=").Append(disk.Path).Append('\n');
        // The disk's interrupts as the guest kernel counted them, every CPU's column summed
        // (/proc/interrupts: a header of CPU names, then one line per IRQ naming its handler).
        s.Append("irqs() { awk 'NR==1{n=NF} index($0,\"").Append(disk.InterruptName)
            .Append("\"){for(i=2;i<=n+1;i++)s+=$i} END{print s+0}' /proc/interrupts; }\n");
        s.Append("""
            i=0
            while [ ! -b $dev ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
            [ -b $dev ] || { echo "no $dev"; ls /dev; exit 1; }

            """);
        if (disk.IsNvme)
        {
            s.Append(Section("id-ctrl")).Append("nvme id-ctrl /dev/nvme0 -o json\n");
            s.Append(Section("id-ns")).Append("nvme id-ns $dev -o json\n");
        }
        else
        {
            // What the driver made of the device: size in 512-byte sectors, queue limits, features.
            s.Append(Section("disk")).Append("""
                name=${dev#/dev/}
                echo "size $(cat /sys/block/$name/size)"
                echo "logical_block_size $(cat /sys/block/$name/queue/logical_block_size)"
                echo "max_segments $(cat /sys/block/$name/queue/max_segments)"
                echo "features $(cat /sys/block/$name/device/features 2>/dev/null)"

                """);
        }
        // Mark the I/O phase in the kernel log itself, so the host can tell the driver's
        // complaints during I/O from whatever boot printed (see IoPhaseKernelLog).
        s.Append("echo ").Append(IoBeginMarker).Append(" > /dev/kmsg\n");
        // The measured jobs come first and the data checks after them, so both peers (QEMU's runs
        // only the measured jobs) reach the last measured job through the same steps and their
        // times to it compare.
        foreach (var job in jobs.Where(j => !j.Verify)) AppendJob(s, job, runtimeSeconds, rangeMiB, disk);
        if (dataChecks)
        {
            // Patterns through the page cache (the driver's default queue), caches dropped between.
            s.Append(Section("roundtrip")).Append($$"""
                ok=1
                for at in 16 2048; do
                  head -c 524288 /dev/urandom > /tmp/pattern
                  dd if=/tmp/pattern of=$dev bs=65536 seek=$at conv=fsync 2>/dev/null || ok=0
                  sync; echo 3 > /proc/sys/vm/drop_caches
                  dd if=$dev of=/tmp/back bs=65536 skip=$at count=8 2>/dev/null || ok=0
                  cmp /tmp/pattern /tmp/back || ok=0
                  echo "pattern at $((at*64)) KiB: $(md5sum < /tmp/pattern | cut -c1-32) read back $(md5sum < /tmp/back | cut -c1-32)"
                done
                [ $ok = 1 ] && echo "{{RoundTripOk}}" || echo "roundtrip FAILED"

                """);
        }
        foreach (var job in jobs.Where(j => j.Verify)) AppendJob(s, job, runtimeSeconds, rangeMiB, disk);
        s.Append("echo ").Append(IoEndMarker).Append(" > /dev/kmsg\n");
        // The kernel log from the begin marker on, for the I/O phase check (/init keeps the
        // kernel off the console, so it is printed here).
        s.Append(Section(KernelLogSection)).Append("dmesg | sed -n '/").Append(IoBeginMarker).Append("/,$p'\n");
        // The driver's complaints (timeouts, resets) of the whole boot, for the report.
        s.Append(Section("dmesg")).Append("dmesg | grep -i -E 'nvme|blk|virtio|timeout|error' | tail -n 40\n");
        s.Append("exit 0\n");
        return s.ToString();
    }

    private static void AppendJob(StringBuilder s, FioJob job, int runtimeSeconds, int rangeMiB, GuestDisk disk)
    {
        s.Append("echo \"").Append(JobBeginPrefix).Append(job.Name).Append("\"\n");
        s.Append("echo \"").Append(InterruptsPrefix).Append("$(irqs)\"\n");
        // A hung job must not eat the whole boot: busybox timeout kills fio (exit 143).
        s.Append("timeout ").Append(JobTimeoutSeconds(job, runtimeSeconds).ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(job.CommandLine(runtimeSeconds, rangeMiB, disk.Path)).Append('\n');
        s.Append("echo \"").Append(ExitPrefix).Append(job.Name).Append(" $?\"\n");
        s.Append("echo \"").Append(InterruptsPrefix).Append("$(irqs)\"\n");
        s.Append("echo \"").Append(JobEndPrefix).Append(job.Name).Append("\"\n");
    }

    private static int JobTimeoutSeconds(FioJob job, int runtimeSeconds) => job.Verify ? 120 : runtimeSeconds + 60;

    private static string Section(string name) => $"echo \"{SectionPrefix}{name}\"\n";

    /// <summary>Splits guest output into its sections and jobs (name → text).</summary>
    public static Dictionary<string, string> Split(string output)
    {
        var parts = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        var text = new StringBuilder();
        foreach (var line in output.Split('\n'))
        {
            string? next = line.StartsWith(SectionPrefix, StringComparison.Ordinal) ? line[SectionPrefix.Length..].Trim()
                : line.StartsWith(JobBeginPrefix, StringComparison.Ordinal) ? line[JobBeginPrefix.Length..].Trim()
                : null;
            if (next != null || line.StartsWith(JobEndPrefix, StringComparison.Ordinal))
            {
                if (current != null) parts[current] = text.ToString();
                current = next;
                text.Clear();
                continue;
            }
            if (current != null) text.Append(line).Append('\n');
        }
        if (current != null) parts[current] = text.ToString();
        return parts;
    }

    /// <summary>
    /// The disk's interrupts the guest took during a job (the two counts printed around it), or
    /// null when the job's text does not hold both.
    /// </summary>
    public static long? InterruptsDuring(string jobText)
    {
        var counts = jobText.Split('\n')
            .Where(line => line.StartsWith(InterruptsPrefix, StringComparison.Ordinal))
            .Select(line => long.TryParse(line[InterruptsPrefix.Length..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : -1)
            .ToArray();
        return counts is [>= 0 and var before, >= 0 and var after] && after >= before ? after - before : null;
    }

    /// <summary>fio's exit status printed after a job ("@@rc name N"), or -1.</summary>
    public static int ExitCode(string jobText, string jobName)
    {
        foreach (var line in jobText.Split('\n'))
        {
            if (!line.StartsWith(ExitPrefix + jobName + " ", StringComparison.Ordinal)) continue;
            return int.TryParse(line[(ExitPrefix.Length + jobName.Length + 1)..].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int rc) ? rc : -1;
        }
        return -1;
    }
}

/// <summary>The guest's block device under test and how the script looks at it.</summary>
/// <param name="Path">The device node fio and the round trip use.</param>
/// <param name="IsNvme">An NVMe namespace: identify it with nvme-cli; otherwise the sysfs view.</param>
/// <param name="InterruptName">What the driver's interrupt handlers are named in /proc/interrupts (every queue's).</param>
internal sealed record GuestDisk(string Path, bool IsNvme, string InterruptName)
{
    /// <summary>The first NVMe namespace (nvme0n1); its controller's vectors are nvme0q0, nvme0q1, …</summary>
    public static GuestDisk Nvme { get; } = new("/dev/nvme0n1", true, "nvme0q");

    /// <summary>The first virtio-blk disk (vda); its vectors are virtio0-config, virtio0-req.0, …</summary>
    public static GuestDisk VirtioBlk { get; } = new("/dev/vda", false, "virtio0-");
}
