namespace ShadowIo.LinuxGuest;

/// <summary>How to boot one run of the test guest under QEMU TCG.</summary>
public sealed class LinuxGuestOptions
{
    /// <summary>Shell script run by /init (busybox sh) after the default modules are loaded;
    /// its stdout+stderr is the run's <see cref="GuestRunResult.Output"/>.</summary>
    public string? Script { get; init; }

    /// <summary>Files added to (or replacing files of) the base initramfs.</summary>
    public IReadOnlyList<GuestFile> Files { get; init; } = [];

    /// <summary>Guest memory (-m), in MiB (a multiple of 2 with <see cref="SharedMemory"/>).</summary>
    public int MemoryMiB { get; init; } = 1024;

    /// <summary>
    /// Guest RAM that QEMU shares by fd, as <c>vfio-user-pci</c> needs (it hands each RAM region's
    /// fd to the server in DMA_MAP): a file QEMU creates and unlinks on a tmpfs with transparent huge
    /// pages, mounted for that QEMU alone (see <see cref="LinuxGuestRunner"/>). Needs <see cref="QemuRoot"/>.
    /// </summary>
    public bool SharedMemory { get; init; }

    /// <summary>Virtual CPUs (-smp).</summary>
    public int Cpus { get; init; } = 2;

    /// <summary>QEMU CPU model; "max" exposes AMD SVM with NPT under TCG (nested KVM).</summary>
    public string CpuModel { get; init; } = "max";

    /// <summary>Arguments appended to QEMU's command line, e.g. <c>-device vfio-user-pci,socket=...</c>.</summary>
    public IReadOnlyList<string> ExtraQemuArgs { get; init; } = [];

    /// <summary>Appended to the kernel command line (e.g. <c>nvme.io_queue_depth=64</c>).</summary>
    public IReadOnlyList<string> ExtraKernelArgs { get; init; } = [];

    /// <summary>
    /// Run QEMU 11.1 chrooted in this root (for <c>vfio-user-pci</c>) instead of the host's QEMU
    /// (Debian's 7.2, <see cref="GuestImage.QemuPath"/>). The runner places the kernel and the
    /// initramfs inside the root; paths in <see cref="ExtraQemuArgs"/> (sockets, files) must be
    /// paths inside the root too, from a <see cref="QemuRoot.CreateRunDirectory"/> of the caller's.
    /// The machine-wide TCG slot and the stall detection are the same for either QEMU.
    /// </summary>
    public QemuRoot? QemuRoot { get; init; }

    /// <summary>Whole-run limit (boot, script, power-off); QEMU is killed past it.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Called with every console line as it arrives (diagnostics, progress).</summary>
    public Action<string>? ConsoleLine { get; init; }
}
