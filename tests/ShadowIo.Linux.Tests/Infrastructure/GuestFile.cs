using System.Text;

namespace ShadowIo.Linux.Tests.Infrastructure;

/// <summary>A file (or symlink) put into the guest's initramfs by an overlay archive.</summary>
public sealed class GuestFile
{
    private GuestFile(string guestPath, Func<byte[]>? contents, string? symlinkTarget, int mode)
    {
        GuestPath = guestPath;
        Contents = contents;
        SymlinkTarget = symlinkTarget;
        Mode = mode;
    }

    public string GuestPath { get; }

    /// <summary>Read when the overlay is written (host files are read then, not at construction).</summary>
    public Func<byte[]>? Contents { get; }

    public string? SymlinkTarget { get; }

    /// <summary>Permission bits, e.g. 0755 as <c>0b111_101_101</c>.</summary>
    public int Mode { get; }

    public const int Executable = 0b111_101_101;
    public const int Regular = 0b110_100_100;

    public static GuestFile FromText(string guestPath, string text, int mode = Regular)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return new GuestFile(guestPath, () => bytes, null, mode);
    }

    public static GuestFile FromBytes(string guestPath, byte[] bytes, int mode = Regular) =>
        new(guestPath, () => bytes, null, mode);

    public static GuestFile FromHostFile(string guestPath, string hostPath, int? mode = null)
    {
        var bits = mode ?? (OperatingSystem.IsWindows() ? Regular : (int)File.GetUnixFileMode(hostPath) & 0b111_111_111);
        return new GuestFile(guestPath, () => File.ReadAllBytes(hostPath), null, bits);
    }

    public static GuestFile Symlink(string guestPath, string target) => new(guestPath, null, target, 0);

    /// <summary>Every file and symlink below <paramref name="hostDirectory"/>, placed under <paramref name="guestDirectory"/>.</summary>
    public static IEnumerable<GuestFile> FromHostDirectory(string guestDirectory, string hostDirectory)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(hostDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(hostDirectory, entry);
            var guestPath = guestDirectory.TrimEnd('/') + "/" + relative.Replace(Path.DirectorySeparatorChar, '/');
            var info = new FileInfo(entry);
            if (info.LinkTarget is { } target)
                yield return Symlink(guestPath, target);
            else if (File.Exists(entry))
                yield return FromHostFile(guestPath, entry);
        }
    }
}
