using System.Globalization;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// One fio job of the comparison: 4 KiB random direct I/O on the disk under test (/dev/nvme0n1,
/// /dev/vda), completing by interrupt (MSI-X over vfio-user; QEMU's own devices alike).
/// </summary>
/// <param name="Name">Job name (also the marker the host watches for).</param>
/// <param name="Verify">Write-then-read-back with crc32c (fio's verify); bounded by size, not time.</param>
internal sealed record FioJob(string Name, bool Write, int QueueDepth, bool Verify = false)
{
    /// <summary>io_uring at every depth, QD1 included: one engine for every job and both peers.</summary>
    public string Engine => "io_uring";

    /// <summary>The four measured jobs, identical for both peers.</summary>
    public static IReadOnlyList<FioJob> Measured { get; } =
    [
        new("randread-qd1", Write: false, QueueDepth: 1),
        new("randwrite-qd1", Write: true, QueueDepth: 1),
        new("randread-qd32", Write: false, QueueDepth: 32),
        new("randwrite-qd32", Write: true, QueueDepth: 32),
    ];

    /// <summary>Verification jobs (only meaningful on a device that stores data: not null-co).</summary>
    public static IReadOnlyList<FioJob> Verifying { get; } =
    [
        new("verify-qd1", Write: true, QueueDepth: 1, Verify: true),
        new("verify-qd32", Write: true, QueueDepth: 32, Verify: true),
    ];

    /// <summary>The fio command line (busybox sh).</summary>
    /// <param name="device">The block device (the NVMe namespace by default).</param>
    public string CommandLine(int runtimeSeconds, int rangeMiB, string device = "/dev/nvme0n1")
    {
        var args = new List<string>
        {
            "fio", $"--name={Name}", $"--filename={device}", "--direct=1", "--bs=4k",
            $"--rw={(Write ? "randwrite" : "randread")}", $"--ioengine={Engine}",
            $"--iodepth={QueueDepth.ToString(CultureInfo.InvariantCulture)}", "--output-format=json",
        };
        if (Verify)
        {
            // A region of its own, written once and read back: every block checked.
            args.Add($"--offset={(QueueDepth == 1 ? 64 : 96)}M");
            args.Add($"--size={(QueueDepth == 1 ? 2 : 8)}M");
            args.AddRange(["--verify=crc32c", "--do_verify=1", "--verify_fatal=1"]);
        }
        else
        {
            args.AddRange(["--time_based", $"--runtime={runtimeSeconds.ToString(CultureInfo.InvariantCulture)}",
                $"--size={rangeMiB.ToString(CultureInfo.InvariantCulture)}M", "--randrepeat=0", "--norandommap"]);
        }
        if (QueueDepth > 1) args.AddRange(["--iodepth_batch_submit=8", "--iodepth_batch_complete_min=1"]);
        return string.Join(' ', args);
    }
}
