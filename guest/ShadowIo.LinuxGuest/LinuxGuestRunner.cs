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
            var qemu = new QemuCommand("chroot", [root.Directory, root.QemuPath], files.Place(image.KernelPath, "vmlinuz"), files.PathInRoot("initrd.cpio"),
                files.PathInRoot(FirmwareLogName), files.HostPath(FirmwareLogName));
            using var slot = await TcgGuestSlot.AcquireAsync(cancellationToken);
            return await BootAsync(qemu, options, cancellationToken);
        }
        var run = $"shadowio-{Guid.NewGuid():N}";
        var hostInitrd = WriteInitrd(image, options, Path.Combine(Path.GetTempPath(), run + ".cpio"));
        var firmwareLog = Path.Combine(Path.GetTempPath(), run + "-" + FirmwareLogName);
        try
        {
            using var slot = await TcgGuestSlot.AcquireAsync(cancellationToken);
            return await BootAsync(new QemuCommand(image.QemuPath, [], image.KernelPath, hostInitrd, firmwareLog, firmwareLog), options, cancellationToken);
        }
        finally
        {
            File.Delete(hostInitrd);
            File.Delete(firmwareLog);
        }
    }

    private const string FirmwareLogName = "firmware.log";

    /// <summary>
    /// How to start QEMU for one run: the program and its leading arguments, the kernel, initramfs
    /// and firmware log paths as QEMU sees them, and the firmware log's path here.
    /// </summary>
    private sealed record QemuCommand(string Program, string[] LeadingArguments, string KernelPath, string InitrdPath, string FirmwareLogPath, string FirmwareLogHostPath)
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
        foreach (var arg in qemuCommand.LeadingArguments.Concat(args).Concat(options.ExtraQemuArgs))
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
