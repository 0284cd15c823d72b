using System.Diagnostics;
using ShadowIo.LinuxGuest;
using ShadowIo.Devices.Storage;
using ShadowIo.Devices.Virtio;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// Runs the same guest, kernel and fio jobs against our devices served over vfio-user to QEMU
/// 11.1's vfio-user-pci from the trixie root (MSI-X interrupts, the drivers' defaults) and against
/// QEMU's own devices on a null-co drive under the same QEMU 11.1: the sample NVMe controller beside
/// <c>-device nvme</c>, our virtio-blk beside <c>-device virtio-blk-pci</c>.
/// </summary>
internal sealed class LinuxComparison
{
    public const int GuestMemoryMiB = 1024;

    /// <summary>The guest's vCPUs (-smp): also our virtio-blk's request queues, one per CPU.</summary>
    public const int GuestCpus = 2;

    /// <summary>The Debian test guest both peers boot (guest/setup.sh's build).</summary>
    public required GuestImage Image { get; init; }

    public int RuntimeSeconds { get; init; } = 8;

    /// <summary>Namespace size and fio's range, in MiB (same for both peers).</summary>
    public int RangeMiB { get; init; } = 256;

    /// <summary>
    /// How long the device thread keeps polling after the last request before it sleeps
    /// (<see cref="DefaultSpin"/> unless set).
    /// </summary>
    public TimeSpan Spin { get; init; } = DefaultSpin;

    /// <summary>
    /// 200 µs: longer than a TCG guest's gap between one QD1 completion and the next submission
    /// (54–77 µs a request at 13–18k IOPS here), so a busy queue finds the thread still polling,
    /// and the device keeps the driver's doorbell or notify suppressed (NVMe's EventIdx, virtio's
    /// avail_event): the guest stops ringing (0.006–0.013 rings per I/O against 1.0 with no spin),
    /// and no wake-up crosses two threads per I/O. Measured on an idle machine, one run after another:
    /// 30 µs is too short (0.4–0.9 rings per I/O), 150–500 µs all gave the gain. On a host whose
    /// cores the TCG vCPUs already fill, the spinning thread costs more than it saves (`--spin-us 0`).
    /// </summary>
    public static readonly TimeSpan DefaultSpin = TimeSpan.FromMicroseconds(200);

    /// <summary>How our controller's doorbells reach it over vfio-user (region writes or the mapped doorbell page).</summary>
    public DoorbellDelivery Doorbells { get; init; } = DoorbellDelivery.RegionWrite;

    /// <summary>How our virtio-blk's notify writes reach it: a device thread behind doorbells, or served on the server's thread.</summary>
    public VirtioNotifyDelivery VirtioNotify { get; init; } = VirtioNotifyDelivery.Doorbells;

    /// <summary>
    /// The controller thread's spin after the last command with mapped doorbells: nothing wakes a
    /// napping thread, so a busy queue must find it still polling (1 ms covers a TCG guest's gap
    /// between two QD1 commands several times over).
    /// </summary>
    public TimeSpan MappedSpin { get; init; } = TimeSpan.FromMilliseconds(1);

    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromMinutes(6);

    public Action<string>? Log { get; init; }

    /// <summary>Which jobs to run (all when null): for a quick look at one job.</summary>
    public Func<FioJob, bool>? JobFilter { get; init; }

    private FioJob[] Select(IEnumerable<FioJob> jobs) => jobs.Where(j => JobFilter?.Invoke(j) ?? true).ToArray();

    /// <summary>Both peers under <paramref name="root"/>'s QEMU 11.1: ours over vfio-user, QEMU's own nvme; interrupts, no polling.</summary>
    public async Task<ComparisonResult> RunVfioUserAsync(QemuRoot root, CancellationToken cancellationToken)
    {
        var ours = await RunShadowIoVfioUserAsync(root, cancellationToken);
        var qemu = await RunQemuNvmeAsync(root, cancellationToken);
        return new ComparisonResult(ours, qemu);
    }

    /// <summary>
    /// The sample controller served over vfio-user to QEMU 11.1's <c>vfio-user-pci</c> (chrooted
    /// in <paramref name="root"/>), with MSI-X interrupts: no poll queues, no short timeouts, fio
    /// completing by interrupt.
    /// </summary>
    public Task<PeerResult> RunShadowIoVfioUserAsync(QemuRoot root, CancellationToken cancellationToken) =>
        RunShadowIoVfioUserAsync(root, Doorbells, cancellationToken);

    /// <summary>As <see cref="RunShadowIoVfioUserAsync(QemuRoot, CancellationToken)"/> with doorbells delivered as <paramref name="doorbells"/> says.</summary>
    public async Task<PeerResult> RunShadowIoVfioUserAsync(QemuRoot root, DoorbellDelivery doorbells, CancellationToken cancellationToken)
    {
        var jobs = Select(FioJob.Measured.Concat(FioJob.Verifying));
        using var sockets = root.CreateRunDirectory();
        using var storage = new MemoryBlockStorage((long)RangeMiB << 20);
        Prefill(storage);
        const string socket = "nvme.sock";
        bool mapped = doorbells == DoorbellDelivery.Mapped;
        using var host = new NvmeVfioUserHost(sockets.HostPath(socket), storage, mapped ? MappedSpin : Spin, doorbells, line => Log?.Invoke($"[vfio-user] {line}"));
        var marks = new JobMarks(() => host.Host.MmioDoorbellWrites);
        var request = Request(GuestScript.Build(jobs, RuntimeSeconds, RangeMiB, dataChecks: true),
            [
                "-device", $$$"""{"driver":"vfio-user-pci","id":"nvme0","socket":{"path":"{{{sockets.PathInRoot(socket)}}}","type":"unix"}}""",
            ],
            marks.Observe, root, sharedMemory: true);
        var stopwatch = Stopwatch.StartNew();
        string output;
        try
        {
            output = (await LinuxGuestRunner.RunAsync(Image, request, cancellationToken)).Output;
        }
        finally
        {
            host.Server.Stop();
        }
        stopwatch.Stop();
        await host.Host.Running.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        host.Host.CheckHealth();
        var c = host.Controller.Counters;
        var observation = new ControllerObservation(
            host.FirstDoorbellBuffer?.ShadowAddress, host.FirstDoorbellBuffer?.EventIdxAddress,
            host.Controller.ReadCommandAccounting(), c.InvalidDoorbellWrites, c.ShadowRereadHits, c.InternalErrors,
            host.Host.MmioDoorbellWrites, host.Host.Sleeps, host.Host.Describe(), host.Server.DmaMapCount);
        string name = mapped ? "ShadowIo (vfio-user-pci, QEMU 11.1, doorbells mapped)" : "ShadowIo (vfio-user-pci, QEMU 11.1, doorbells region-write)";
        return Collect(name, jobs, output, marks, stopwatch.Elapsed, dataChecks: true) with
        {
            Controller = observation,
            ControllerNaps = host.Host.Naps,
            InterruptsDelivered = host.Server.Interrupts.Delivered,
        };
    }

    /// <summary>Where the virtio-blk runs list the virtio modules the image does not load itself.</summary>
    public const string VirtioModuleListPath = "/etc/shadowio/modules.d/20-virtio-blk.list";

    /// <summary>Linux 6.1's virtio-pci transport and block driver, with what they depend on, for one boot.</summary>
    private IReadOnlyList<GuestFile> VirtioModules() => GuestModules.Files(Image, VirtioModuleListPath, "virtio_pci", "virtio_blk");

    /// <summary>
    /// Our virtio-blk device (<see cref="VirtioBlkVfioUserHost"/>) served over vfio-user to QEMU
    /// 11.1's <c>vfio-user-pci</c>, driven by Linux's virtio_pci + virtio_blk with MSI-X: the round
    /// trip, the measured jobs and the verifying ones on /dev/vda. The per-job counter is the notify
    /// doorbell writes that reached the server.
    /// </summary>
    public async Task<PeerResult> RunShadowIoVirtioBlkVfioUserAsync(QemuRoot root, CancellationToken cancellationToken)
    {
        var jobs = Select(FioJob.Measured.Concat(FioJob.Verifying));
        using var sockets = root.CreateRunDirectory();
        using var storage = new MemoryBlockStorage((long)RangeMiB << 20);
        Prefill(storage);
        const string socket = "virtio-blk.sock";
        using var host = new VirtioBlkVfioUserHost(sockets.HostPath(socket), storage, Spin, GuestCpus, VirtioNotify, line => Log?.Invoke($"[vfio-user] {line}"));
        var marks = new JobMarks(() => host.NotifyWrites);
        var request = Request(GuestScript.Build(jobs, RuntimeSeconds, RangeMiB, dataChecks: true, GuestDisk.VirtioBlk),
            [
                "-device", $$$"""{"driver":"vfio-user-pci","id":"vblk0","socket":{"path":"{{{sockets.PathInRoot(socket)}}}","type":"unix"}}""",
            ],
            marks.Observe, root, extraFiles: VirtioModules(), sharedMemory: true);
        var stopwatch = Stopwatch.StartNew();
        string output;
        try
        {
            output = (await LinuxGuestRunner.RunAsync(Image, request, cancellationToken)).Output;
        }
        finally
        {
            host.Host.Server.Stop();
        }
        stopwatch.Stop();
        await host.Host.Running.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        host.Host.CheckHealth();
        var c = host.Device.Counters;
        var observation = new VirtioObservation(c.Notifications, c.RequestsCompleted, c.RequestsFailed, c.RequestsUnsupported,
            c.InterruptsRequested, c.InterruptsSuppressed, c.RearmRereadHits, c.NeedsResetRaised, host.Device.NeedsResetReason.ToString(),
            host.Device.InternalErrors, host.NotifyWrites, host.Host.Sleeps, host.Host.Describe());
        string how = VirtioNotify == VirtioNotifyDelivery.Inline ? ", notify inline" : "";
        return Collect($"ShadowIo virtio-blk (vfio-user-pci, QEMU 11.1{how})", jobs, output, marks, stopwatch.Elapsed, dataChecks: true) with
        {
            Virtio = observation,
            InterruptsDelivered = host.Host.Server.Interrupts.Delivered,
        };
    }

    /// <summary>
    /// QEMU 11.1's own <c>-device virtio-blk-pci</c> on a null-co drive, same kernel, modules and
    /// jobs. Its notifications are counted from QEMU's <c>virtio_queue_notify</c> trace event: under
    /// TCG QEMU registers no ioeventfd for the notify region (that needs KVM), so every notify
    /// write the driver makes reaches <c>virtio_queue_notify</c> and logs one line.
    /// </summary>
    public async Task<PeerResult> RunQemuVirtioBlkAsync(QemuRoot root, CancellationToken cancellationToken)
    {
        var jobs = Select(FioJob.Measured);
        using var files = root.CreateRunDirectory();
        const string traceName = "virtio-trace.log";
        string trace = files.HostPath(traceName);
        File.WriteAllText(trace, "");
        using var counter = new TraceLineCounter(trace);
        var marks = new JobMarks(counter.Count);
        var request = Request(GuestScript.Build(jobs, RuntimeSeconds, RangeMiB, dataChecks: false, GuestDisk.VirtioBlk),
            [
                "-drive", $"driver=null-co,size={RangeMiB}M,read-zeroes=on,if=none,id=v0",
                "-device", "virtio-blk-pci,drive=v0,disable-legacy=on",
                "-trace", "virtio_queue_notify", "-D", files.PathInRoot(traceName),
            ],
            marks.Observe, root, extraFiles: VirtioModules());
        var stopwatch = Stopwatch.StartNew();
        string output = (await LinuxGuestRunner.RunAsync(Image, request, cancellationToken)).Output;
        stopwatch.Stop();
        return Collect($"QEMU {root.QemuVersion} -device virtio-blk-pci (null-co)", jobs, output, marks, stopwatch.Elapsed, dataChecks: false);
    }

    /// <summary>
    /// QEMU's own <c>-device nvme</c> (null-co) under <paramref name="root"/>'s QEMU 11.1, with
    /// the jobs and parameters of <see cref="RunShadowIoVfioUserAsync"/> (interrupts, no poll queue):
    /// the peer the vfio-user transport is compared with.
    /// </summary>
    public async Task<PeerResult> RunQemuNvmeAsync(QemuRoot root, CancellationToken cancellationToken)
    {
        var jobs = Select(FioJob.Measured);
        using var files = root.CreateRunDirectory();
        const string traceName = "nvme-trace.log";
        string trace = files.HostPath(traceName);
        File.WriteAllText(trace, "");
        using var counter = new TraceLineCounter(trace);
        var marks = new JobMarks(counter.Count);
        var request = Request(GuestScript.Build(jobs, RuntimeSeconds, RangeMiB, dataChecks: false),
            [
                "-drive", $"driver=null-co,size={RangeMiB}M,read-zeroes=on,if=none,id=n0",
                "-device", "nvme,serial=QEMUNVME0001,drive=n0",
                "-trace", "pci_nvme_mmio_doorbell_sq", "-trace", "pci_nvme_mmio_doorbell_cq", "-D", files.PathInRoot(traceName),
            ],
            marks.Observe, root);
        var stopwatch = Stopwatch.StartNew();
        string output = (await LinuxGuestRunner.RunAsync(Image, request, cancellationToken)).Output;
        stopwatch.Stop();
        return Collect($"QEMU {root.QemuVersion} -device nvme (null-co)", jobs, output, marks, stopwatch.Elapsed, dataChecks: false);
    }

    /// <summary>
    /// Touches every 64 KiB chunk of the in-memory namespace before the guest boots. The storage
    /// allocates a chunk on its first write; left to the measured randwrite jobs, hundreds of MiB
    /// of fresh managed arrays (and the garbage collections promoting them) land inside I/O
    /// latency, which QEMU's null-co peer never pays.
    /// </summary>
    private static void Prefill(MemoryBlockStorage storage)
    {
        ReadOnlySpan<byte> zero = [0];
        for (long offset = 0; offset < storage.Length; offset += 1 << 16) storage.TryWrite(offset, zero);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <param name="extraFiles">Files added to the boot besides the nvme module list (the virtio modules).</param>
    /// <param name="sharedMemory">Guest RAM QEMU can hand to a vfio-user server (<see cref="LinuxGuestOptions.SharedMemory"/>).</param>
    private LinuxGuestOptions Request(string script, IReadOnlyList<string> qemuArgs, Action<string> console, QemuRoot root,
        IReadOnlyList<GuestFile>? extraFiles = null, bool sharedMemory = false) =>
        new()
        {
            Script = script,
            Files = extraFiles ?? [],
            ExtraQemuArgs = qemuArgs,
            QemuRoot = root,
            SharedMemory = sharedMemory,
            ConsoleLine = line =>
            {
                console(line);
                Log?.Invoke(line);
            },
            MemoryMiB = GuestMemoryMiB,
            Cpus = GuestCpus,
            Timeout = BootTimeout,
        };

    private static PeerResult Collect(string peer, IReadOnlyList<FioJob> jobs, string output, JobMarks marks, TimeSpan elapsed, bool dataChecks)
    {
        var parts = GuestScript.Split(output);
        var results = new List<JobResult>();
        foreach (var job in jobs)
        {
            string text = parts.GetValueOrDefault(job.Name, "");
            var fio = FioResult.Parse(job.Name, text, job.Write && !job.Verify);
            long begin = marks.CountAt(GuestScript.JobBeginPrefix + job.Name) ?? 0;
            long end = marks.CountAt(GuestScript.JobEndPrefix + job.Name) ?? begin;
            results.Add(new JobResult(job, fio, GuestScript.ExitCode(text, job.Name), Math.Max(0, end - begin), GuestScript.InterruptsDuring(text)));
        }
        var identify = IdentifyReport.Parse(parts.GetValueOrDefault("id-ctrl", ""), parts.GetValueOrDefault("id-ns", ""));
        bool? roundTrip = dataChecks ? parts.GetValueOrDefault("roundtrip", "").Contains(GuestScript.RoundTripOk, StringComparison.Ordinal) : null;
        return new PeerResult(peer, results, identify, roundTrip, output, elapsed)
        {
            MeasuredPhase = jobs.LastOrDefault(FioJob.Measured.Contains) is { } last ? marks.TimeAt(GuestScript.JobEndPrefix + last.Name) : null,
            KernelLog = IoPhaseKernelLog.Parse(parts.GetValueOrDefault(GuestScript.KernelLogSection, "")),
        };
    }
}
