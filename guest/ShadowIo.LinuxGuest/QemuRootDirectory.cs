namespace ShadowIo.LinuxGuest;

/// <summary>
/// A directory inside a <see cref="QemuRoot"/> for one run's files: a file placed here at
/// <see cref="HostPath(string)"/> is what QEMU, chrooted in the root, opens at
/// <see cref="PathInRoot(string)"/> (the kernel, the initramfs, a vfio-user server's socket).
/// Plain files in the root's own tree, nothing mounted: disposing deletes the directory, and a
/// killed run's directory is removed by the next <see cref="QemuRoot.GetAsync"/>.
/// </summary>
public sealed class QemuRootDirectory : IDisposable
{
    private readonly string _hostDirectory;
    private readonly string _directoryInRoot;

    internal QemuRootDirectory(string hostDirectory, string directoryInRoot)
    {
        _hostDirectory = hostDirectory;
        _directoryInRoot = directoryInRoot;
        Directory.CreateDirectory(hostDirectory);
    }

    /// <summary>The host path of <paramref name="name"/> in this directory (where this process creates it).</summary>
    /// <param name="name">A file name (no directory part).</param>
    public string HostPath(string name) => Path.Combine(_hostDirectory, CheckName(name));

    /// <summary>The path of <paramref name="name"/> as QEMU sees it inside the root (what goes on its command line).</summary>
    /// <param name="name">A file name (no directory part).</param>
    public string PathInRoot(string name) => $"{_directoryInRoot}/{CheckName(name)}";

    /// <summary>Copies <paramref name="hostFile"/> in as <paramref name="name"/> and returns its path inside the root.</summary>
    /// <param name="hostFile">Any host file (e.g. the guest kernel).</param>
    /// <param name="name">Its name in this directory.</param>
    public string Place(string hostFile, string name)
    {
        File.Copy(hostFile, HostPath(name), overwrite: true);
        return PathInRoot(name);
    }

    /// <summary>Deletes the directory and everything in it.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(_hostDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static string CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
            throw new ArgumentException($"'{name}' is not a plain file name.", nameof(name));
        return name;
    }
}
