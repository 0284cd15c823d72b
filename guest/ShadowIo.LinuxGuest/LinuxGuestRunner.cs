using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ShadowIo.LinuxGuest;

/// <summary>
/// Boots Debian's kernel with the ShadowIo initramfs under QEMU TCG, runs a script inside and
/// returns what it printed between /init's markers. Each run is a fresh boot; QEMU is killed
/// when the run exceeds its timeout.
/// </summary>
public static partial class LinuxGuestRunner
{
    /// <summary>The line /init prints before the script's output (the end line carries its exit status).</summary>
    public const string BeginMarker = "=====SHADOWIO-OUTPUT-BEGIN=====";
    private const string GuestScriptPath = "/shadowio/run.sh";

    [GeneratedRegex(@"^=====SHADOWIO-OUTPUT-END rc=(\d+)=====$", RegexOptions.Multiline)]
    private static partial Regex EndMarker();

    /// <summary>
    /// A kernel report that a CPU or RCU stopped making progress. /init lowers the console log
    /// level to 1, so only KERN_EMERG lines reach the console: the soft-lockup watchdog's own line,
    /// and the panic that <see cref="StallPanicArgs"/> turns every other stall into.
    /// </summary>
    [GeneratedRegex(@"soft lockup - CPU#\d+ stuck|Watchdog detected hard LOCKUP|rcu: INFO: rcu_\w+ (self-)?detected stall|Kernel panic - not syncing")]
    private static partial Regex StallReport();

    /// <summary>
    /// Panic on a soft lockup (20 s without scheduling on a CPU), an RCU CPU stall (21 s) and a task
    /// blocked for 120 s: a wedged guest ends in seconds with the panic's stack on the console
    /// (panic() raises the console log level), instead of at the run's timeout.
    /// </summary>
    private static readonly string[] StallPanicArgs = ["softlockup_panic=1", "sysctl.kernel.panic_on_rcu_stall=1", "hung_task_panic=1"];

    /// <summary>How long a stalled guest gets to print its panic and exit before it is killed.</summary>
    private static readonly TimeSpan StallGrace = TimeSpan.FromSeconds(5);

    /// <summary>Boots <paramref name="image"/> once with <paramref name="options"/> and returns what the script printed.</summary>
    /// <remarks>Waits first for the machine-wide <see cref="TcgGuestSlot"/>: one TCG guest runs at a
    /// time, and the timeout counts from QEMU's start.</remarks>
    /// <exception cref="TimeoutException">The run exceeded <see cref="LinuxGuestOptions.Timeout"/> (QEMU was killed).</exception>
    /// <exception cref="GuestStalledException">The guest kernel reported a soft lockup, an RCU stall, a hung task or a panic.</exception>
    /// <exception cref="InvalidOperationException">QEMU ended without /init's output markers.</exception>
    public static async Task<GuestRunResult> RunAsync(GuestImage image, LinuxGuestOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(options);
        if (options.QemuRoot is { } root)
        {
            // QEMU chrooted in the root sees only the root's tree: the kernel and the initramfs go inside it.
            using var files = root.CreateRunDirectory();
            var initrd = WriteInitrd(image, options, files.HostPath("initrd.cpio"));
            string[] chrooted = ["chroot", root.Directory, root.QemuPath];
            var (program, leading, machine) = options.SharedMemory
                ? ("unshare", [.. SharedMemoryWrapper(files.HostPath(SharedMemoryDirectoryName), options.MemoryMiB), .. chrooted],
                    SharedMemoryArgs(files.PathInRoot(SharedMemoryDirectoryName), options.MemoryMiB))
                : (chrooted[0], chrooted[1..], Array.Empty<string>());
            var qemu = new QemuCommand(program, leading, files.Place(image.KernelPath, "vmlinuz"), files.PathInRoot("initrd.cpio"),
                files.PathInRoot(FirmwareLogName), files.HostPath(FirmwareLogName), machine);
            using var slot = await TcgGuestSlot.AcquireAsync(cancellationToken);
            return await BootAsync(qemu, options, cancellationToken);
        }
        if (options.SharedMemory)
            throw new ArgumentException("SharedMemory needs a QemuRoot (vfio-user-pci is QEMU 11.1's).", nameof(options));
        var run = $"shadowio-{Guid.NewGuid():N}";
        var hostInitrd = WriteInitrd(image, options, Path.Combine(Path.GetTempPath(), run + ".cpio"));
        var firmwareLog = Path.Combine(Path.GetTempPath(), run + "-" + FirmwareLogName);
        try
        {
            using var slot = await TcgGuestSlot.AcquireAsync(cancellationToken);
            return await BootAsync(new QemuCommand(image.QemuPath, [], image.KernelPath, hostInitrd, firmwareLog, firmwareLog, []), options, cancellationToken);
        }
        finally
        {
            File.Delete(hostInitrd);
            File.Delete(firmwareLog);
        }
    }

    private const string FirmwareLogName = "firmware.log";

    private const string SharedMemoryDirectoryName = "ram";

    /// <summary>The source name of the tmpfs mounted for <see cref="LinuxGuestOptions.SharedMemory"/> (as QEMU's mountinfo shows it).</summary>
    public const string SharedMemoryMountSource = "shadowio-ram";

    /// <summary>
    /// The front of the command line for <see cref="LinuxGuestOptions.SharedMemory"/>: a mount
    /// namespace of QEMU's own (unshare), where a shell mounts a tmpfs with huge pages on
    /// <paramref name="hostDirectory"/> and execs the rest of the command line (chroot, QEMU). The
    /// mount is private to QEMU and ends with it; on the host the directory stays an empty one of
    /// the run's. Why huge pages: QEMU's default guest RAM is anonymous memory that it madvises for
    /// transparent huge pages, and the same TCG guest on 4 KiB shmem pages (memory-backend-memfd)
    /// boots measurably slower here: six alternating boots of the bare image took 8.22 s on average
    /// with memfd RAM, 7.62 s with QEMU's default RAM and 7.70 s with this one. A kernel that
    /// refuses <c>huge=</c> gets a plain tmpfs.
    /// </summary>
    private static string[] SharedMemoryWrapper(string hostDirectory, int memoryMiB)
    {
        if (memoryMiB % 2 != 0)
            throw new ArgumentException($"SharedMemory needs MemoryMiB in 2 MiB steps, not {memoryMiB}.", nameof(memoryMiB));
        Directory.CreateDirectory(hostDirectory);
        const string mountThenExec = """
            source=$0 dir=$1 size=$2; shift 2
            mount -t tmpfs -o huge=within_size,size="$size" "$source" "$dir" 2>/dev/null ||
              mount -t tmpfs -o size="$size" "$source" "$dir" || exit 1
            exec "$@"
            """;
        // The tmpfs holds the one RAM file; the slack is for the file system's own rounding.
        string size = (memoryMiB + 16).ToString(CultureInfo.InvariantCulture) + "m";
        return ["--mount", "--propagation", "private", "/bin/sh", "-c", mountThenExec, SharedMemoryMountSource, hostDirectory, size];
    }

    /// <summary>
    /// The guest RAM backend on the tmpfs at <paramref name="directoryInRoot"/>: QEMU creates its
    /// file there and unlinks it; share=on makes the mapping MAP_SHARED, so the file (and its fd,
    /// which QEMU passes in DMA_MAP) is the guest's memory; align=2M puts the mapping on huge-page
    /// boundaries (shmem maps a huge page only where address and file offset agree modulo 2 MiB).
    /// </summary>
    private static string[] SharedMemoryArgs(string directoryInRoot, int memoryMiB) =>
    [
        "-object", $"memory-backend-file,id=shadowio-ram,size={memoryMiB}M,mem-path={directoryInRoot},share=on,align=2M",
        "-machine", "pc,memory-backend=shadowio-ram",
    ];

    /// <summary>
    /// How to start QEMU for one run: the program and its leading arguments, the kernel, initramfs
    /// and firmware log paths as QEMU sees them, the firmware log's path here, and QEMU arguments
    /// the run's options call for (the shared guest RAM backend).
    /// </summary>
    private sealed record QemuCommand(string Program, string[] LeadingArguments, string KernelPath, string InitrdPath, string FirmwareLogPath, string FirmwareLogHostPath,
        string[] MachineArguments)
    {
        /// <summary>What a failed run leaves to go on: the tails of QEMU's stderr, the firmware log and the console.</summary>
        public string Report(string stderr, string console) =>
            $"QEMU stderr:\n{ScriptRunner.Tail(stderr, 20)}firmware log tail:\n{FirmwareLogTail()}console tail:\n{ScriptRunner.Tail(console, 40)}";

        /// <summary>
        /// The last lines SeaBIOS wrote to its debug port: with the kernel booting <c>quiet</c>, a guest
        /// that hangs before /init leaves an empty console, and this says whether the firmware got as
        /// far as booting the kernel ("Booting from ROM...").
        /// </summary>
        private string FirmwareLogTail()
        {
            try
            {
                return File.Exists(FirmwareLogHostPath) ? ScriptRunner.Tail(File.ReadAllText(FirmwareLogHostPath), 15) : "(none written)\n";
            }
            catch (IOException e)
            {
                return $"(unreadable: {e.Message})\n";
            }
        }
    }

    /// <summary>The base image with one overlay archive (the script and the files) appended.</summary>
    private static string WriteInitrd(GuestImage image, LinuxGuestOptions options, string path)
    {
        using var output = File.Create(path);
        using (var baseImage = File.OpenRead(image.InitrdPath))
            baseImage.CopyTo(output);
        var overlay = new CpioArchive(output);
        foreach (var file in options.Files)
        {
            if (file.SymlinkTarget is { } target)
                overlay.AddSymlink(file.GuestPath, target);
            else
                overlay.AddFile(file.GuestPath, file.Contents!(), file.Mode);
        }
        overlay.AddFile(GuestScriptPath, Encoding.UTF8.GetBytes(options.Script ?? "exit 0\n"), GuestFile.Executable);
        overlay.Finish();
        return path;
    }

    private static async Task<GuestRunResult> BootAsync(QemuCommand qemuCommand, LinuxGuestOptions options, CancellationToken cancellationToken)
    {
        var kernelArgs = new List<string> { "console=ttyS0", "panic=-1", "quiet", $"shadowio.script={GuestScriptPath}" };
        // no_timer_check: at boot Linux checks that the PIT's interrupt reaches the IO-APIC by
        // expecting jiffies to advance during a TSC-timed mdelay (timer_irq_works). QEMU emulates
        // the PIT on its main-loop thread; when host load starves that thread for the few tens of
        // milliseconds the check lasts, Linux panics "IO-APIC + timer doesn't work!" (seen here on
        // a loaded run). QEMU's i440FX always wires the PIT to IO-APIC pin 2: the check finds nothing.
        kernelArgs.Add("no_timer_check");
        kernelArgs.AddRange(StallPanicArgs);
        kernelArgs.AddRange(options.ExtraKernelArgs);
        var info = new ProcessStartInfo(qemuCommand.Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Kept open and never written: the serial console reads stdin, and EOF there is noise.
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "-accel", "tcg", "-cpu", options.CpuModel,
            "-m", options.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            "-smp", options.Cpus.ToString(CultureInfo.InvariantCulture),
            "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "stdio",
            "-net", "none", "-no-reboot",
            "-kernel", qemuCommand.KernelPath, "-initrd", qemuCommand.InitrdPath, "-append", string.Join(' ', kernelArgs),
            // SeaBIOS's debug output (port 0x402) into a file, for the report of a guest that never reached /init.
            "-chardev", $"file,id=shadowio-firmware,path={qemuCommand.FirmwareLogPath}", "-device", "isa-debugcon,iobase=0x402,chardev=shadowio-firmware",
        ];
        foreach (var arg in qemuCommand.LeadingArguments.Concat(args).Concat(qemuCommand.MachineArguments).Concat(options.ExtraQemuArgs))
            info.ArgumentList.Add(arg);

        var console = new StringBuilder();
        var stall = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopwatch = Stopwatch.StartNew();
        using var qemu = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {info.FileName}");
        var stderr = qemu.StandardError.ReadToEndAsync(CancellationToken.None);
        var reader = Task.Run(async () =>
        {
            while (await qemu.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
            {
                line = line.TrimEnd('\r');
                lock (console)
                    console.Append(line).Append('\n');
                if (StallReport().IsMatch(line))
                    stall.TrySetResult(line);
                options.ConsoleLine?.Invoke(line);
            }
        }, CancellationToken.None);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(options.Timeout);
        var exited = qemu.WaitForExitAsync(limit.Token);
        try
        {
            if (await Task.WhenAny(exited, stall.Task) == stall.Task)
            {
                // Let the panic reach the console (its stack says where the CPU was stuck).
                await Task.WhenAny(exited, Task.Delay(StallGrace, CancellationToken.None));
                if (!qemu.HasExited)
                    qemu.Kill(entireProcessTree: true);
                await qemu.WaitForExitAsync(CancellationToken.None);
                await reader;
                throw new GuestStalledException(await stall.Task, ScriptRunner.Tail(console.ToString(), 60));
            }
            await exited;
        }
        catch (OperationCanceledException)
        {
            qemu.Kill(entireProcessTree: true);
            await qemu.WaitForExitAsync(CancellationToken.None);
            await reader;
            cancellationToken.ThrowIfCancellationRequested();
            // The kernel boots "quiet": an empty console means the guest never reached its script,
            // and then QEMU's own complaints (a vfio-user peer that stopped answering, say) are all there is.
            throw new TimeoutException(
                $"the guest did not finish within {options.Timeout}; {qemuCommand.Report(await stderr, console.ToString())}");
        }
        await reader;
        stopwatch.Stop();
        var text = console.ToString();
        var begin = text.IndexOf(BeginMarker + "\n", StringComparison.Ordinal);
        var end = EndMarker().Match(text, begin < 0 ? 0 : begin);
        if (begin < 0 || !end.Success)
        {
            throw new InvalidOperationException(
                $"the guest ended (QEMU exit {qemu.ExitCode}) without {(begin < 0 ? "the begin" : "the end")} marker; "
                + qemuCommand.Report(await stderr, text));
        }
        var outputStart = begin + BeginMarker.Length + 1;
        var output = text[outputStart..end.Index];
        return new GuestRunResult(output, int.Parse(end.Groups[1].Value, CultureInfo.InvariantCulture), text, stopwatch.Elapsed);
    }
}
