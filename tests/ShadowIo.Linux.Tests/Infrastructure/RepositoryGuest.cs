using ShadowIo.LinuxGuest;

namespace ShadowIo.Linux.Tests.Infrastructure;

/// <summary>The test guest built by this repository's guest/setup.sh (found through <see cref="RepositoryPaths"/>).</summary>
public static class RepositoryGuest
{
    public static string SetupScript => Path.Combine(RepositoryPaths.Root, "guest", "setup.sh");

    public static string QemuRootScript => Path.Combine(RepositoryPaths.Root, "guest", "qemu-root.sh");

    /// <summary>Runs guest/setup.sh once per test process and returns the guest it built or found.</summary>
    public static Task<GuestImage> ImageAsync(CancellationToken cancellationToken = default) =>
        GuestImage.GetAsync(SetupScript, cancellationToken: cancellationToken);

    /// <summary>Runs guest/qemu-root.sh once per test process and returns the trixie root with QEMU 11.1 it built or found.</summary>
    public static Task<QemuRoot> QemuRootAsync(CancellationToken cancellationToken = default) =>
        QemuRoot.GetAsync(QemuRootScript, cancellationToken: cancellationToken);

    /// <summary>One fresh boot of the repository's guest.</summary>
    public static async Task<GuestRunResult> RunAsync(LinuxGuestOptions options, CancellationToken cancellationToken = default) =>
        await LinuxGuestRunner.RunAsync(await ImageAsync(cancellationToken), options, cancellationToken);
}
