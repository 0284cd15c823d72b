using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>
/// Boots the project's Debian test guest (built and cached by <c>guest/setup.sh</c>) under QEMU
/// TCG for the demo's <c>linux</c> verb: base initramfs plus an overlay with the script and
/// files, QEMU inheriting the proxy socket, console read line by line, killed past the timeout.
/// </summary>
/// <remarks>The test suite does the same through its LinuxGuest fixture; a program cannot use a test project.</remarks>
internal sealed partial class QemuGuestBooter
{
    private const string BeginMarker = "=====SHADOWIO-OUTPUT-BEGIN=====";
    private const string EndMarkerPrefix = "=====SHADOWIO-OUTPUT-END rc=";
    private const string ScriptPath = "/shadowio/run.sh";
    private static readonly Lock SpawnLock = new();

    private QemuGuestBooter(string qemu, string guestDirectory, string kernel, string initrd)
    {
        QemuPath = qemu;
        GuestDirectory = guestDirectory;
        KernelPath = kernel;
        InitrdPath = initrd;
    }

    public string QemuPath { get; }
    public string GuestDirectory { get; }
    public string KernelPath { get; }
    public string InitrdPath { get; }

    /// <summary>The image's nvme module list (load order) as /init would read it.</summary>
    public string NvmeModuleList => File.ReadAllText(Path.Combine(GuestDirectory, "root", "etc", "shadowio", "modules.d", "10-nvme.list"));

    /// <summary>Runs guest/setup.sh (installs QEMU, builds or finds the cached guest) and reads the paths it prints.</summary>
    public static async Task<QemuGuestBooter> SetUpAsync(string setupScript, Action<string>? log, CancellationToken cancellationToken)
    {
        if (!File.Exists(setupScript))
            throw new FileNotFoundException($"guest set-up script not found at {setupScript} (pass --guest-setup or run from the repository).");
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(setupScript);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start bash");
        var stderr = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync(cancellationToken) is { } line) log?.Invoke(line);
        }, cancellationToken);
        string stdout = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        await stderr;
        if (process.ExitCode != 0) throw new InvalidOperationException($"{setupScript} failed (exit {process.ExitCode}).");
        var values = stdout.Split('\n').Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
        string Get(string key) => values.TryGetValue(key, out var v) ? v : throw new InvalidOperationException($"{setupScript} printed no {key}.");
        return new QemuGuestBooter(Get("SHADOWIO_QEMU"), Get("SHADOWIO_GUEST_DIR"), Get("SHADOWIO_GUEST_KERNEL"), Get("SHADOWIO_GUEST_INITRD"));
    }

    public async Task<string> BootAsync(GuestBootRequest request, CancellationToken cancellationToken)
    {
        string initrd = Path.Combine(Path.GetTempPath(), $"shadowio-linux-{Guid.NewGuid():N}.cpio");
        try
        {
            using (var output = File.Create(initrd))
            {
                using (var baseImage = File.OpenRead(InitrdPath)) await baseImage.CopyToAsync(output, cancellationToken);
                var overlay = new InitramfsOverlay(output);
                foreach (var (path, text) in request.Files) overlay.AddFile(path, Encoding.UTF8.GetBytes(text));
                overlay.AddFile(ScriptPath, Encoding.UTF8.GetBytes(request.Script), executable: true);
                overlay.Finish();
            }
            return await RunAsync(request, initrd, cancellationToken);
        }
        finally
        {
            File.Delete(initrd);
        }
    }

    private async Task<string> RunAsync(GuestBootRequest request, string initrd, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(QemuPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        string append = string.Join(' ', new[] { "console=ttyS0", "panic=-1", "quiet", $"shadowio.script={ScriptPath}" }.Concat(request.KernelArgs));
        foreach (string arg in (string[])["-accel", "tcg", "-cpu", "max", "-m", request.MemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-smp", "2", "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "stdio", "-net", "none", "-no-reboot",
                     "-kernel", KernelPath, "-initrd", initrd, "-append", append])
            info.ArgumentList.Add(arg);
        foreach (string arg in request.QemuArgs) info.ArgumentList.Add(arg);

        var console = new StringBuilder();
        using var qemu = Spawn(info, request.InheritedFds);
        var stderr = qemu.StandardError.ReadToEndAsync(CancellationToken.None);
        var reader = Task.Run(async () =>
        {
            while (await qemu.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
            {
                line = line.TrimEnd('\r');
                lock (console) console.Append(line).Append('\n');
                request.ConsoleLine(line);
            }
        }, CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(request.Timeout);
        try
        {
            await qemu.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            qemu.Kill(entireProcessTree: true);
            await qemu.WaitForExitAsync(CancellationToken.None);
            await reader;
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"the guest did not finish within {request.Timeout}.");
        }
        await reader;
        string text;
        lock (console) text = console.ToString();
        int begin = text.IndexOf(BeginMarker + "\n", StringComparison.Ordinal);
        int end = begin < 0 ? -1 : text.IndexOf(EndMarkerPrefix, begin, StringComparison.Ordinal);
        if (begin < 0 || end < 0)
            throw new InvalidOperationException($"the guest ended (QEMU exit {qemu.ExitCode}) without its output markers; QEMU stderr: {await stderr}");
        return text[(begin + BeginMarker.Length + 1)..end];
    }

    /// <summary>Starts QEMU with <paramref name="fds"/> inheritable just for this spawn (.NET opens everything close-on-exec).</summary>
    private static Process Spawn(ProcessStartInfo info, IReadOnlyList<int> fds)
    {
        lock (SpawnLock)
        {
            foreach (int fd in fds) SetCloseOnExec(fd, false);
            try
            {
                return Process.Start(info) ?? throw new InvalidOperationException($"cannot start {info.FileName}");
            }
            finally
            {
                foreach (int fd in fds) SetCloseOnExec(fd, true);
            }
        }
    }

    private static void SetCloseOnExec(int fd, bool closeOnExec)
    {
        const int GetFd = 1, SetFd = 2, CloseOnExec = 1;
        int flags = Fcntl(fd, GetFd, 0);
        if (flags < 0 || Fcntl(fd, SetFd, closeOnExec ? flags | CloseOnExec : flags & ~CloseOnExec) < 0)
            throw new IOException($"fcntl on fd {fd} failed: errno {Marshal.GetLastPInvokeError()}.");
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
